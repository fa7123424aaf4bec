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
public sealed class Fanout(IMessageBus bus, ConnectionRegistry sockets, RoomDirectory rooms, IRoomLogReader log, NatterMetrics metrics,
    IOptions<NatterOptions> options, ILogger<Fanout> logger)
    : BackgroundService, IPresenceAudience
{
    private readonly PresenceMemory _told = new(options.Value.Limits.TrackedRooms);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);

    private readonly RoomSeqMap _roomSeq = new(options.Value.Limits.TrackedRooms);
    private readonly HashSet<IAckTarget> _touched = [];
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

    private sealed class GapRead(long after)
    {
        public long After { get; } = after;
        public List<BusEvent> Waiting { get; } = [];
        public int Failures { get; set; }
    }

    private readonly record struct GapAnswer(string Room, IReadOnlyList<StoredEvent>? Messages, Exception? Error);

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
                if (c is Connection conn)
                {
                    conn.FlushHere();
                }
                else
                {
                    c.Flush();
                }
            }

            _touched.Clear();
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

                foreach (var m in stored.Events)
                {
                    Offer(m, ct);
                }

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

    /// <summary>One message of a room, in the room's order: delivered now, or behind the room's gap read.</summary>
    private void Offer(StoredEvent m, CancellationToken ct)
    {
        if (_reading.TryGetValue(m.Room, out var pending))
        {
            pending.Waiting.Add(new EventsStored([m]));
            _held++;
            return;
        }

        if (_roomSeq.TryGet(m.Room, out var last))
        {
            if (m.Seq <= last)
            {
                return;
            }

            if (m.Seq > last + 1)
            {
                // A message the bus lost or reordered: read the missing ones (off the loop) before this one.
                var read = new GapRead(last);
                read.Waiting.Add(new EventsStored([m]));
                _held++;
                _reading[m.Room] = read;
                StartRead(m.Room, last, m.Seq, TimeSpan.Zero, ct);
                return;
            }
        }

        _roomSeq.Set(m.Room, m.Seq);
        Deliver(m);
    }

    private void StartRead(string room, long after, long before, TimeSpan delay, CancellationToken ct) => _ = Task.Run(async () =>
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, ct);
            }

            var missing = await log.ReadAsync(room, after, before, (int)Math.Min(before - after, 10_000), ct);
            _answers.Writer.TryWrite(new GapAnswer(room, missing, null));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (Exception e)
        {
            _answers.Writer.TryWrite(new GapAnswer(room, null, e));
        }
    }, CancellationToken.None);

    private async ValueTask OnAnswerAsync(GapAnswer answer, CancellationToken ct)
    {
        if (!_reading.TryGetValue(answer.Room, out var read))
        {
            return;
        }

        var first = ((EventsStored)read.Waiting[0]).Events[0];
        if (answer.Messages is null)
        {
            // The store did not answer: the room keeps waiting, and the read is tried again a little later.
            read.Failures++;
            var pause = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, FirstRetry.Ticks << Math.Min(read.Failures - 1, 10)));
            Log.GapReadFailed(logger, answer.Room, read.After + 1, first.Seq - 1, read.Failures, answer.Error?.Message ?? "");
            StartRead(answer.Room, read.After, first.Seq, pause, ct);
            return;
        }

        _reading.Remove(answer.Room);
        _held -= read.Waiting.Count;
        Log.GapFilled(logger, answer.Room, read.After + 1, first.Seq - 1);
        metrics.GapsFilled.Add(1);
        var last = read.After;
        foreach (var x in answer.Messages)
        {
            if (x.Seq > last)
            {
                Deliver(x);
                last = x.Seq;
            }
        }

        _roomSeq.Set(answer.Room, last);

        // What waited goes on in its order; a message past a gap still open starts the next read, and all after it waits again.
        foreach (var e in read.Waiting)
        {
            switch (e)
            {
                case EventsStored s:
                    foreach (var m in s.Events)
                    {
                        Offer(m, ct);
                    }

                    break;
                case MemberEvent me when _reading.TryGetValue(me.Room, out var again):
                    again.Waiting.Add(me);
                    _held++;
                    break;
                case MemberEvent me:
                    await ApplyMemberAsync(me, ct);
                    break;
            }
        }
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

    private async ValueTask ApplyMemberAsync(MemberEvent me, CancellationToken ct)
    {
        if (me.Joined)
        {
            rooms.ApplyJoin(me.Room, me.UserId);
            if (rooms.Peek(me.Room) is null && sockets.Of(me.UserId).Length > 0)
            {
                await rooms.GetAsync(me.Room, ct); // first local interest in this room: load it with its members
            }

            var added = me.View is { } view ? Frames.Room("added", view, me.Role) : null;
            foreach (var c in sockets.Of(me.UserId))
            {
                c.Track(me.Room, me.LastSeq);
                if (added is not null)
                {
                    c.SendEvent(added);
                }
            }

            ToMembers(me.Room, Frames.Member(me.Room, me.Username, joined: true));
        }
        else
        {
            // The leaver's sockets hear of it too, then stop receiving the room (a removed user's also get "removed").
            // The cache changes in the same turn of the loop, so nothing of the room is queued to them after it.
            var frame = me.Reason is { } reason ? Frames.Member(me.Room, me.Username, reason) : Frames.Member(me.Room, me.Username, joined: false);
            var removed = me.Reason is not null && me.View is { } view ? Frames.Room("removed", view, me.Role) : null;
            foreach (var c in sockets.Of(me.UserId))
            {
                c.SendEvent(frame);
                if (removed is not null)
                {
                    c.SendEvent(removed);
                }
            }

            rooms.ApplyLeave(me.Room, me.UserId);
            ToMembers(me.Room, frame);
        }
    }

    private void ApplyDirect(DirectRoomEvent d)
    {
        rooms.Put(new Room(d.Room, "", RoomKinds.Direct), d.UserA, d.UserB);
        foreach (var (user, other) in new[] { (d.UserA, d.UsernameB), (d.UserB, d.UsernameA) })
        {
            var frame = Frames.Room("added", new RoomView(d.Room, "", RoomKinds.Direct, "", RoomVisibility.Private, 2, d.LastSeq), RoomRoles.Member, other);
            foreach (var c in sockets.Of(user))
            {
                c.Track(d.Room, d.LastSeq);
                c.SendEvent(frame);
            }
        }
    }

    private void ApplyRoomUpdated(RoomUpdated u)
    {
        var room = rooms.Peek(u.View.Id);
        if (room is null)
        {
            return;
        }

        rooms.Rename(u.View.Id, u.View.Name);
        var staff = u.Staff.ToDictionary(m => m.UserId, m => m.Role);
        if (u.RoleChanges.Count == 0)
        {
            // One serialization per role (at most three), each member's sockets get theirs.
            var byRole = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var userId in room.Members)
            {
                var role = staff.GetValueOrDefault(userId, RoomRoles.Member);
                foreach (var c in sockets.Of(userId))
                {
                    c.SendEvent(byRole.TryGetValue(role, out var f) ? f : byRole[role] = Frames.Room("updated", u.View, role));
                }
            }

            return;
        }

        foreach (var change in u.RoleChanges)
        {
            ToMembers(u.View.Id, Frames.MemberRoleChanged(u.View.Id, change.Username, change.Role));
            var frame = Frames.Room("updated", u.View, change.Role);
            foreach (var c in sockets.Of(change.UserId))
            {
                c.SendEvent(frame);
            }
        }
    }

    private void ApplyRoomDeleted(RoomDeleted d)
    {
        var frame = Frames.RoomDeleted(d.Room);
        var members = (rooms.Peek(d.Room)?.Members ?? []).Union(d.Members);
        foreach (var userId in members)
        {
            foreach (var c in sockets.Of(userId))
            {
                c.SendEvent(frame);
            }
        }

        // Nothing of the room is delivered after this: its cache entry, its seq and any gap read waiting on it go.
        rooms.Forget(d.Room);
        if (_reading.Remove(d.Room, out var read))
        {
            _held -= read.Waiting.Count;
        }
    }

    public IReadOnlyCollection<string> UsersTold() => _told.Usernames();

    /// <summary>True when the announcement is newer than what the sockets were told of this user (and remembers it).</summary>
    private bool IsNewest(PresenceEvent p)
    {
        var known = _told.TryGet(p.Username, out var told);
        if (p.Version == 0)
        {
            // This node's own view, while the cluster could not be asked: told as is, corrected later.
            _told.Set(p.Username, new PresenceMemory.Told(p.UserId, known ? told.Version : 0, p.Online, Unversioned: true));
            return true;
        }

        if (known && p.Version <= told.Version)
        {
            return false;
        }

        _told.Set(p.Username, new PresenceMemory.Told(p.UserId, p.Version, p.Online, Unversioned: false));
        return true;
    }

    /// <summary>Tells the sockets the cluster's answer for every user whose last word here is older or was only this node's view.</summary>
    private void Correct(PresenceSnapshot snapshot)
    {
        foreach (var (username, (version, online)) in snapshot.Users)
        {
            if (!_told.TryGet(username, out var told) || version < told.Version || (version == told.Version && !told.Unversioned))
            {
                continue;
            }

            _told.Set(username, told with { Version = version, Online = online, Unversioned = false });
            if (online != told.Online)
            {
                ToRoommates(told.UserId, username, online, rooms.CachedRoomsOf(told.UserId));
            }
        }
    }

    private void ToRoommates(long userId, string username, bool online, IReadOnlyList<string> roomIds)
    {
        var frame = Frames.Presence(username, online);
        var told = new HashSet<Connection>();
        foreach (var roomId in roomIds)
        {
            var room = rooms.Peek(roomId);
            if (room is null)
            {
                continue;
            }

            foreach (var member in room.Members)
            {
                if (member == userId)
                {
                    continue;
                }

                foreach (var c in sockets.Of(member))
                {
                    if (told.Add(c))
                    {
                        c.SendEvent(frame);
                    }
                }
            }
        }
    }
}
