using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>A send as a client asks for it, over the socket or HTTP.</summary>
public readonly record struct SendRequest(string? Room, string? To, string? Text, string? ClientId, long? ReplyTo = null, IReadOnlyList<string>? Files = null);

/// <summary>
/// The send use case, called by the socket and the HTTP entry alike: the checks (text, client_id, reply_to, files,
/// room or direct recipient, membership, the user's rate), the mentions, then the ingest queue. What passes is
/// stored by the group commit (which also checks that reply_to is a live message of the room) and answered as
/// <see cref="PendingEvent"/> says.
/// </summary>
public sealed class SendService(EventIntake intake, RoomService roomService, MentionFinder mentions, IChatStore store, TimeProvider clock)
{
    /// <summary>A socket send: checked and queued; null when queued (the ack or an error reaches <paramref name="target"/> later).</summary>
    public async ValueTask<Refusal?> SubmitAsync(Caller caller, SendRequest request, IAckTarget target, string? reference, CancellationToken ct) =>
        await intake.SubmitAsync(await PrepareAsync(caller, request, ct), target, reference, ct);

    /// <summary>An HTTP send: checked, queued and waited for until it is stored (or refused).</summary>
    public Task<(AppendResult? Stored, Refusal Refusal)> SendAndWaitAsync(Caller caller, SendRequest request, CancellationToken ct) =>
        PrepareThenWaitAsync(caller, request, ct);

    private async Task<(AppendResult? Stored, Refusal Refusal)> PrepareThenWaitAsync(Caller caller, SendRequest request, CancellationToken ct) =>
        await intake.SubmitAndWaitAsync(await PrepareAsync(caller, request, ct), ct);

    private async ValueTask<(NewEvent? Event, Refusal Refusal)> PrepareAsync(Caller caller, SendRequest request, CancellationToken ct)
    {
        var (roomId, to, text, clientId, replyTo, files) = request;
        var badText = intake.CheckText(text, out var trimmed);
        if (badText is { Code: ErrorCodes.BadRequest } && files is { Count: > 0 } && string.IsNullOrWhiteSpace(text))
        {
            // A message may be its files alone: the text may then be empty (or left out).
            badText = null;
        }

        if ((intake.CheckRunning() ?? badText ?? EventIntake.CheckClientId(clientId)) is { } refused)
        {
            return (null, refused);
        }

        if (replyTo is < 1)
        {
            return Refuse(ErrorCodes.BadRequest, "\"reply_to\" is the seq of a message: a whole number, 1 or more.");
        }

        if (files is { Count: > Validation.FilesMax })
        {
            return Refuse(ErrorCodes.BadRequest, $"A message lists at most {Validation.FilesMax} files.");
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
        else if (await intake.CheckRoomAsync(caller, roomId, ct) is { } notInRoom)
        {
            return (null, notInRoom);
        }

        var (attached, badFile) = await FindFilesAsync(caller, files, ct);
        if (badFile is { } refusedFile)
        {
            return (null, refusedFile);
        }

        if (intake.TakeRate(caller) is { } tooFast)
        {
            return (null, tooFast);
        }

        return (NewEvent.Message(roomId, caller.UserId, caller.Username, trimmed, EventIntake.ClientIdOrNew(clientId), clock.GetUtcNow().ToUnixTimeMilliseconds()) with
        {
            ReplyTo = replyTo,
            Mentions = await mentions.FindAsync(roomId, trimmed, ct),
            Files = attached,
        }, default);
    }

    /// <summary>
    /// The files a send lists, in order, each once: every one must be a ready file (not_found) that the sender
    /// uploaded (forbidden). The group commit checks again that none was freed in the meantime.
    /// </summary>
    private async Task<(IReadOnlyList<FileRef> Files, Refusal? Refusal)> FindFilesAsync(Caller caller, IReadOnlyList<string>? files, CancellationToken ct)
    {
        if (files is not { Count: > 0 })
        {
            return ([], null);
        }

        var ids = files.Distinct(StringComparer.Ordinal).ToList();
        if (ids.FirstOrDefault(id => !FileIds.IsValid(id)) is { } bad)
        {
            return ([], new Refusal(ErrorCodes.NotFound, $"No file '{bad}'."));
        }

        var found = (await store.FindFilesAsync(ids, ct)).ToDictionary(f => f.File.Id, StringComparer.Ordinal);
        var list = new List<FileRef>(ids.Count);
        foreach (var id in ids)
        {
            if (!found.TryGetValue(id, out var file))
            {
                return ([], new Refusal(ErrorCodes.NotFound, $"No file '{id}'."));
            }

            if (file.UploaderId != caller.UserId)
            {
                return ([], new Refusal(ErrorCodes.Forbidden, $"File '{id}' was uploaded by someone else: only its uploader may attach it."));
            }

            list.Add(file.File);
        }

        return (list, null);
    }

    private static (NewEvent?, Refusal) Refuse(string code, string message) => (null, new Refusal(code, message));
}
