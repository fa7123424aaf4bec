using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>
/// What the four room-event use cases (send, edit, delete, react) share on their way into the ingest queue: the
/// shutdown switch, the room and membership check, the user's send rate (every kind counts against it), the
/// client_id rule, and the two ways of answering: a socket later through its ack target, an HTTP caller by waiting.
/// </summary>
public sealed class EventIntake(RoomDirectory rooms, SendRateLimiter limiter, IngestQueue ingest, IOptions<NatterOptions> options)
{
    private static readonly Refusal ShuttingDown = new(ErrorCodes.Internal, "The server is shutting down; nothing was stored.");
    private readonly HashSet<string> _admins = new(options.Value.Admins, StringComparer.OrdinalIgnoreCase);
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    /// <summary>From now on every room event is refused (the ingest queue drains what it already holds).</summary>
    public void BeginShutdown() => _stopping = true;

    public Refusal? CheckRunning() => _stopping ? ShuttingDown : null;

    /// <summary>A server admin (Natter:Admins).</summary>
    public bool IsAdmin(Caller caller) => _admins.Contains(caller.Username);

    /// <summary>The room exists (not_found) and the caller is a member (forbidden), unless <paramref name="adminMayAct"/> and an admin.</summary>
    public async ValueTask<Refusal?> CheckRoomAsync(Caller caller, string? roomId, CancellationToken ct, bool adminMayAct = false)
    {
        if (roomId is null)
        {
            return new Refusal(ErrorCodes.BadRequest, "\"room\" is required.");
        }

        var (room, isMember) = await rooms.CheckMemberAsync(roomId, caller.UserId, ct);
        return room is null ? new Refusal(ErrorCodes.NotFound, "No such room.")
            : isMember || (adminMayAct && IsAdmin(caller)) ? null
            : new Refusal(ErrorCodes.Forbidden, "You are not a member of this room.");
    }

    /// <summary>Takes one token of the user's send rate.</summary>
    public Refusal? TakeRate(Caller caller) =>
        limiter.TrySend(caller.UserId) ? null : new Refusal(ErrorCodes.RateLimited, "Too many messages; slow down.");

    /// <summary>bad_request for a present client_id that breaks the rule.</summary>
    public static Refusal? CheckClientId(string? clientId) =>
        clientId is not null && !Validation.IsValidClientId(clientId)
            ? new Refusal(ErrorCodes.BadRequest, $"\"client_id\" has 1–{Validation.ClientIdMax} characters.")
            : null;

    /// <summary>
    /// Without a client_id every event is distinct: the server makes one up, time-ordered (UUIDv7) as Natter's clients
    /// make theirs, so its dedupe index entry appends instead of landing on a random page.
    /// </summary>
    public static string ClientIdOrNew(string? clientId) => clientId ?? "srv-" + Guid.CreateVersion7().ToString("N");

    /// <summary>bad_request unless the target is a seq (1 or more).</summary>
    public static Refusal? CheckTarget(long target) =>
        target < 1 ? new Refusal(ErrorCodes.BadRequest, "\"target\" is the seq of a message: a whole number, 1 or more.") : null;

    /// <summary>Trims and checks a text (v1's rules): bad_request when missing or empty, too_large over the limit.</summary>
    public Refusal? CheckText(string? text, out string trimmed)
    {
        trimmed = "";
        if (text is null)
        {
            return new Refusal(ErrorCodes.BadRequest, "\"text\" is required.");
        }

        trimmed = text.Trim();
        var max = options.Value.Limits.MaxTextCodePoints;
        return trimmed.Length == 0 ? new Refusal(ErrorCodes.BadRequest, "The text is empty.")
            : trimmed.Length > max && Validation.CodePoints(trimmed) > max ? new Refusal(ErrorCodes.TooLarge, $"The text is over {max} characters.")
            : null;
    }

    /// <summary>A socket's event: queued; null when queued (the ack or an error reaches <paramref name="target"/> later).</summary>
    public async ValueTask<Refusal?> SubmitAsync((NewEvent? Event, Refusal Refusal) prepared, IAckTarget target, string? reference, CancellationToken ct)
    {
        if (prepared.Event is not { } e)
        {
            return prepared.Refusal;
        }

        return await EnqueueAsync(PendingEvent.ForSocket(e, target, reference), ct);
    }

    /// <summary>
    /// An HTTP caller's event: queued and waited for. The result is Stored, Duplicate or Unchanged; anything the
    /// group commit refused comes back as the refusal.
    /// </summary>
    public async Task<(AppendResult? Result, Refusal Refusal)> SubmitAndWaitAsync((NewEvent? Event, Refusal Refusal) prepared, CancellationToken ct)
    {
        if (prepared.Event is not { } e)
        {
            return (null, prepared.Refusal);
        }

        var pending = PendingEvent.ForHttp(e);
        if (await EnqueueAsync(pending, ct) is { } notQueued)
        {
            return (null, notQueued);
        }

        AppendResult result;
        try
        {
            result = await pending.Completion!.Task.WaitAsync(ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            return (null, new Refusal(ErrorCodes.Internal, "It could not be stored; send it again."));
        }

        return result.Outcome is AppendOutcome.Stored or AppendOutcome.Duplicate or AppendOutcome.Unchanged
            ? (result, default)
            : (null, Refusals.Of(result.Outcome, e.Kind));
    }

    private async ValueTask<Refusal?> EnqueueAsync(PendingEvent pending, CancellationToken ct)
    {
        if (_stopping)
        {
            return ShuttingDown;
        }

        try
        {
            await ingest.SubmitAsync(pending, ct);
            return null;
        }
        catch (ChannelClosedException)
        {
            return ShuttingDown;
        }
    }
}

/// <summary>Finds the members a text mentions (the rule in <see cref="Validation.MentionCandidates"/>).</summary>
public sealed class MentionFinder(IChatStore store, RoomDirectory rooms)
{
    /// <summary>Members of the room the text mentions, each once, in order; no store call for a text without "@".</summary>
    public async ValueTask<IReadOnlyList<Mention>> FindAsync(string roomId, string text, CancellationToken ct)
    {
        var names = Validation.MentionCandidates(text);
        if (names.Count == 0)
        {
            return [];
        }

        var ids = (await store.FindUsersAsync([.. names], ct)).ToDictionary(u => u.Username, u => u.UserId, StringComparer.Ordinal);
        var room = await rooms.GetAsync(roomId, ct);
        var reloaded = false;
        var found = new List<Mention>();
        foreach (var name in names)
        {
            if (!ids.TryGetValue(name, out var id))
            {
                continue;
            }

            if (room?.IsMember(id) != true && !reloaded)
            {
                // A cached "no" is checked once against the store, as for sends (a join may have raced the cache).
                (room, _) = await rooms.CheckMemberAsync(roomId, id, ct);
                reloaded = true;
            }

            if (room?.IsMember(id) == true)
            {
                found.Add(new Mention(id, name));
            }
        }

        return found;
    }
}
