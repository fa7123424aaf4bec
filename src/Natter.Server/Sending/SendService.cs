using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>A send as a client asks for it, over the socket or HTTP.</summary>
public readonly record struct SendRequest(string? Room, string? To, string? Text, string? ClientId);

/// <summary>
/// The send use case, called by the socket and the HTTP entry alike: the checks (text, client_id, room or direct
/// recipient, membership, the user's rate), the shutdown check, then the ingest queue. What passes is stored by the
/// group commit and answered as <see cref="PendingSend"/> says.
/// </summary>
public sealed class SendService(RoomDirectory rooms, RoomService roomService, SendRateLimiter limiter, IngestQueue ingest,
    IOptions<NatterOptions> options, TimeProvider clock)
{
    private static readonly Refusal ShuttingDown = new(ErrorCodes.Internal, "The server is shutting down; nothing was stored.");
    private readonly int _maxText = options.Value.Limits.MaxTextCodePoints;
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    /// <summary>From now on every send is refused (the ingest queue drains what it already holds).</summary>
    public void BeginShutdown() => _stopping = true;

    /// <summary>A socket send: checked and queued; null when queued (the ack or an error reaches <paramref name="target"/> later).</summary>
    public async ValueTask<Refusal?> SubmitAsync(Caller caller, SendRequest request, IAckTarget target, string? reference, CancellationToken ct)
    {
        var (message, refusal) = await PrepareAsync(caller, request, ct);
        if (message is null)
        {
            return refusal;
        }

        return await EnqueueAsync(PendingSend.ForSocket(message, target, reference), ct);
    }

    /// <summary>An HTTP send: checked, queued and waited for until it is stored (or refused).</summary>
    public async Task<(AppendResult? Stored, Refusal Refusal)> SendAndWaitAsync(Caller caller, SendRequest request, CancellationToken ct)
    {
        var (message, refusal) = await PrepareAsync(caller, request, ct);
        if (message is null)
        {
            return (null, refusal);
        }

        var send = PendingSend.ForHttp(message);
        if (await EnqueueAsync(send, ct) is { } notQueued)
        {
            return (null, notQueued);
        }

        try
        {
            return (await send.Completion!.Task.WaitAsync(ct), default);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            return (null, new Refusal(ErrorCodes.Internal, "The message could not be stored; send it again."));
        }
    }

    private async ValueTask<Refusal?> EnqueueAsync(PendingSend send, CancellationToken ct)
    {
        if (_stopping)
        {
            return ShuttingDown;
        }

        try
        {
            await ingest.SubmitAsync(send, ct);
            return null;
        }
        catch (ChannelClosedException)
        {
            return ShuttingDown;
        }
    }

    private async ValueTask<(NewMessage? Message, Refusal Refusal)> PrepareAsync(Caller caller, SendRequest request, CancellationToken ct)
    {
        var (roomId, to, text, clientId) = request;
        if (_stopping)
        {
            return (null, ShuttingDown);
        }

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
