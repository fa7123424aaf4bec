using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Hosting;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Messaging;

/// <summary>A refusal in protocol terms; HTTP maps the code to a status.</summary>
public readonly record struct Refusal(string Code, string Message)
{
    public int HttpStatus => Code switch
    {
        ErrorCodes.BadRequest => 400,
        ErrorCodes.Unauthorized => 401,
        ErrorCodes.Forbidden => 403,
        ErrorCodes.NotFound => 404,
        ErrorCodes.TooLarge => 413,
        ErrorCodes.RateLimited => 429,
        _ => 503,
    };
}

/// <summary>
/// The gateway's checks for a send, shared by the socket and HTTP: text, client_id, room (or direct recipient),
/// membership, then the user's rate. What passes becomes a NewMessage for the ingest queue.
/// </summary>
public sealed class MessageService(RoomDirectory rooms, RoomService roomService, SendRateLimiter limiter,
    IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly int _maxText = options.Value.Limits.MaxTextCodePoints;

    public async ValueTask<(NewMessage? Message, Refusal Refusal)> PrepareAsync(
        Caller caller, string? roomId, string? to, string? text, string? clientId, CancellationToken ct)
    {
        if (text is null)
        {
            return Refuse(ErrorCodes.BadRequest, "\"text\" is required.");
        }

        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return Refuse(ErrorCodes.BadRequest, "The text is empty.");
        }

        if (trimmed.Length > _maxText && Validation.CodePoints(trimmed) > _maxText)
        {
            return Refuse(ErrorCodes.TooLarge, $"The text is over {_maxText} characters.");
        }

        if (clientId is not null && !Validation.IsValidClientId(clientId))
        {
            return Refuse(ErrorCodes.BadRequest, $"\"client_id\" has 1–{Validation.ClientIdMax} characters.");
        }

        if (roomId is null)
        {
            if (to is null)
            {
                return Refuse(ErrorCodes.BadRequest, "Say \"room\" or \"to\".");
            }

            if (string.Equals(to, caller.Username, StringComparison.OrdinalIgnoreCase))
            {
                return Refuse(ErrorCodes.BadRequest, "A direct message goes to another user.");
            }

            var direct = await roomService.OpenDirectAsync(caller, to, ct);
            if (direct is null)
            {
                return Refuse(ErrorCodes.NotFound, $"No user '{to}'.");
            }

            roomId = direct.Value.Room.Id;
        }
        else
        {
            var (room, isMember) = await rooms.CheckMemberAsync(roomId, caller.UserId, ct);
            if (room is null)
            {
                return Refuse(ErrorCodes.NotFound, "No such room.");
            }

            if (!isMember)
            {
                return Refuse(ErrorCodes.Forbidden, "You are not a member of this room.");
            }
        }

        if (!limiter.TrySend(caller.UserId))
        {
            return Refuse(ErrorCodes.RateLimited, "Too many messages; slow down.");
        }

        // Without a client_id every send is distinct: the server makes one up.
        var id = clientId ?? "srv-" + Guid.NewGuid().ToString("N");
        return (new NewMessage(roomId, caller.UserId, caller.Username, trimmed, id, clock.GetUtcNow().ToUnixTimeMilliseconds()), default);
    }

    private static (NewMessage?, Refusal) Refuse(string code, string message) => (null, new Refusal(code, message));
}
