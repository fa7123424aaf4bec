using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>
/// Reads this node's bus events and hands each to the local sockets that should see it. A room log entry (message,
/// edit, deletion, reaction) is serialized once; the same bytes go to every member's sockets. Per room, entries
/// reach sockets in seq order: the node remembers the last seq it handed on and fills a gap from the store before
/// anything later in that room.
/// A gap is read off the loop: while a room waits for its read, its later messages (and membership changes) wait
/// behind it in order, and every other room, every ack and every other event goes on. A read that fails (the store
/// is away) is tried again, with growing pauses, until it succeeds.
/// Presence: announcements of one user are ordered by their version; one older than what this node's sockets were
/// last told (it arrived late, say after a partition healed) is dropped. After a fault, a snapshot of the cluster's
/// answer corrects what the sockets were told while this node could not hear.
/// </summary>
public sealed partial class Fanout(IMessageBus bus, ConnectionRegistry sockets, RoomDirectory rooms, IRoomLogReader log, NatterMetrics metrics,
    IOptions<NatterOptions> options, ILogger<Fanout> logger)
    : BackgroundService, IPresenceAudience
{
    private readonly RoomSeqMap _roomSeq = new(options.Value.Limits.TrackedRooms);
    private readonly HashSet<IAckTarget> _touched = [];

    // Sockets a room's events were queued to since its last flush (loop thread only; see OfferByRoom).
    private readonly List<IAckTarget> _roomSockets = [];

    // A commit's events grouped by room, in order of each room's first event (reused; loop thread only).
    private readonly Dictionary<string, int> _groupOf = new(StringComparer.Ordinal);
    private readonly List<List<StoredEvent>> _groups = [];
    private readonly Lock _idleGate = new();

    // Rooms whose gap is being read, with what waits behind the read (loop thread only), and the reads' answers.
    private readonly Dictionary<string, GapRead> _reading = new(StringComparer.Ordinal);
    private readonly Channel<GapAnswer> _answers = Channel.CreateUnbounded<GapAnswer>(new UnboundedChannelOptions { SingleReader = true });

    // Past this many events waiting behind reads, the loop stops taking bus events until reads answer (the bus
    // queue then fills and its publishers wait), so a store that never answers cannot fill memory.
    private readonly int _holdLimit = options.Value.Limits.IngestQueueCapacity;
    private int _held;
    private TaskCompletionSource? _idle;
    private bool _busy;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var events = bus.Events;
        Task<bool>? more = null;
        Task<bool>? answers = null;
        while (true)
        {
            // Busy from before an event leaves the queue until it is handled, so "queue empty and not busy"
            // means everything published so far has reached the sockets' queues (shutdown waits for that).
            lock (_idleGate)
            {
                _busy = true;
            }

            var handled = 0;
            while (_answers.Reader.TryRead(out var answer))
            {
                handled++;
                try
                {
                    await OnAnswerAsync(answer, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.FanoutFailed(logger, nameof(GapAnswer), e);
                }
            }

            while (_held < _holdLimit && events.TryRead(out var delivery))
            {
                handled++;
                try
                {
                    await HandleAsync(delivery, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.FanoutFailed(logger, delivery.Event.GetType().Name, e);
                }
            }

            // Each socket's writer wakes once for everything handled and sends its share in one write.
            foreach (var c in _touched)
            {
                c.FlushHere();
            }

            _touched.Clear();
            _roomSockets.Clear();
            lock (_idleGate)
            {
                _busy = _reading.Count > 0;
                if (!_busy && !HasQueued)
                {
                    _idle?.TrySetResult();
                    _idle = null;
                }
            }

            if (handled > 0)
            {
                continue;
            }

            // Sleep until an event or a read's answer comes (the waits are kept across turns, never piled up).
            answers ??= _answers.Reader.WaitToReadAsync(stoppingToken).AsTask();
            if (_held < _holdLimit)
            {
                more ??= events.WaitToReadAsync(stoppingToken).AsTask();
                await Task.WhenAny(more, answers);
            }
            else
            {
                await answers;
            }

            if (answers.IsCompleted)
            {
                await answers;
                answers = null;
            }

            if (more is { IsCompleted: true })
            {
                if (!await more)
                {
                    return; // the bus is closed
                }

                more = null;
            }
        }
    }

    private bool HasQueued => bus.Events.CanCount && bus.Events.Count > 0;

    /// <summary>Completes when every event published so far has been handed to the sockets (see RunAsync).</summary>
    public Task WhenIdleAsync()
    {
        lock (_idleGate)
        {
            return !_busy && !HasQueued ? Task.CompletedTask : (_idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private async ValueTask HandleAsync(BusDelivery delivery, CancellationToken ct)
    {
        switch (delivery.Event)
        {
            case EventsStored stored:
                // Acks first and at once, whatever waits for the store: they are control frames and leave ahead
                // of data in the same write.
                foreach (var ack in delivery.Local?.Acks ?? [])
                {
                    ack.Target.QueueAck(ack.Reference, ack.Event);
                    _touched.Add(ack.Target);
                }

                OfferByRoom(stored.Events, ct);
                break;
            case TypingEvent t:
                ToMembers(t.Room, Frames.Typing(t.Room, t.Username), except: t.UserId);
                break;
            case ReadEvent r:
                ToMembers(r.Room, Frames.Read(r.Room, r.Username, r.Seq), except: r.UserId);
                break;
            case MemberEvent me when _reading.TryGetValue(me.Room, out var read):
                // Keeps its place among the room's messages.
                read.Waiting.Add(me);
                _held++;
                break;
            case MemberEvent me:
                await ApplyMemberAsync(me, ct);
                break;
            case DirectRoomEvent d:
                ApplyDirect(d);
                break;
            case RoomUpdated u:
                ApplyRoomUpdated(u);
                break;
            case RoomDeleted d:
                ApplyRoomDeleted(d);
                break;
            case PresenceEvent p:
                if (IsNewest(p))
                {
                    ToRoommates(p.UserId, p.Username, p.Online, p.Rooms);
                }

                break;
            case PresenceSnapshot snapshot:
                Correct(snapshot);
                break;
            case SessionRevoked s:
                foreach (var c in sockets.All().Where(c => c.SessionId == s.SessionId))
                {
                    c.Close(Natter.Protocol.CloseCodes.LoggedOut, "logged out");
                }

                break;
            case SessionsExpired e:
                var expired = e.SessionIds.ToHashSet();
                foreach (var c in sockets.All().Where(c => expired.Contains(c.SessionId)))
                {
                    c.Close(Natter.Protocol.CloseCodes.LoggedOut, "session expired");
                }

                break;
            case UserSessionsRevoked u:
                foreach (var c in sockets.Of(u.UserId).Where(c => c.SessionId != u.KeepSessionId))
                {
                    c.Close(u.Disabled ? Natter.Protocol.CloseCodes.AccountDisabled : Natter.Protocol.CloseCodes.LoggedOut,
                        u.Disabled ? "account disabled" : "signed out everywhere else");
                }

                break;
        }
    }


    /// <summary>
    /// A commit's events, room by room (each room's in seq order, rooms in order of their first event), each room's
    /// sockets flushed as soon as its events are queued: the first rooms of a large commit reach their sockets while
    /// the last are still being queued, and a socket still gets all of one room's events of the commit in one write
    /// (with its acks: a sender is a member of the room it sent to). Order only matters within a room (and each
    /// socket's writer keeps what it is given in order); a socket in several of the rooms gets a write per room.
    /// </summary>
    private void OfferByRoom(IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        if (events.Count == 1)
        {
            Offer(events[0], ct);
            FlushRoom();
            return;
        }

        var used = 0;
        try
        {
            foreach (var m in events)
            {
                if (!_groupOf.TryGetValue(m.Room, out var g))
                {
                    g = _groupOf[m.Room] = used++;
                    if (_groups.Count < used)
                    {
                        _groups.Add([]);
                    }
                }

                _groups[g].Add(m);
            }

            for (var g = 0; g < used; g++)
            {
                foreach (var m in _groups[g])
                {
                    Offer(m, ct);
                }

                FlushRoom();
            }
        }
        finally
        {
            _groupOf.Clear();
            for (var g = 0; g < used; g++)
            {
                _groups[g].Clear();
            }

            // A commit of many rooms once must not keep many lists for ever.
            if (_groups.Count > 256)
            {
                _groups.RemoveRange(256, _groups.Count - 256);
            }
        }
    }

    /// <summary>Flushes the sockets queued to since the last flush; each leaves the turn's touched set (flushed once more only if touched again).</summary>
    private void FlushRoom()
    {
        foreach (var c in _roomSockets)
        {
            if (_touched.Remove(c))
            {
                c.FlushHere();
            }
        }

        _roomSockets.Clear();
    }

    private void Deliver(StoredEvent m)
    {
        var room = rooms.Peek(m.Room);
        if (room is null)
        {
            return;
        }

        OutboundEvent? outbound = null;
        foreach (var userId in room.Members)
        {
            foreach (var c in sockets.Of(userId))
            {
                c.QueueEvent(outbound ??= new OutboundEvent(m));
                _touched.Add(c);
                _roomSockets.Add(c);
            }
        }
    }

    private void ToMembers(string roomId, byte[] frame, long except = -1)
    {
        var room = rooms.Peek(roomId);
        if (room is null)
        {
            return;
        }

        foreach (var userId in room.Members)
        {
            if (userId == except)
            {
                continue;
            }

            foreach (var c in sockets.Of(userId))
            {
                c.SendEvent(frame);
            }
        }
    }
}
