using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>
/// Reads this node's bus events and hands each to the local sockets that should see it. A message is serialized
/// once; the same bytes go to every member's sockets. Per room, messages reach sockets in seq order: the node
/// remembers the last seq it handed on and fills a gap from the store before anything later.
/// </summary>
public sealed class Fanout(IMessageBus bus, ConnectionRegistry sockets, RoomDirectory rooms, IRoomLogReader log, NatterMetrics metrics,
    IOptions<NatterOptions> options, ILogger<Fanout> logger)
    : BackgroundService
{
    private readonly RoomSeqMap _roomSeq = new(options.Value.Limits.TrackedRooms);
    private readonly HashSet<IAckTarget> _touched = [];
    private readonly Lock _idleGate = new();
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
        while (await events.WaitToReadAsync(stoppingToken))
        {
            // Busy from before an event leaves the queue until it is handled, so "queue empty and not busy"
            // means everything published so far has reached the sockets' queues (shutdown waits for that).
            lock (_idleGate)
            {
                _busy = true;
            }

            while (events.TryRead(out var delivery))
            {
                try
                {
                    await HandleAsync(delivery, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.FanoutFailed(logger, delivery.Event.GetType().Name, e);
                }
            }

            lock (_idleGate)
            {
                _busy = false;
                if (!HasQueued)
                {
                    _idle?.TrySetResult();
                    _idle = null;
                }
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
            case MessagesStored stored:
                // Acks first (they are control frames and leave ahead of data in the same write).
                foreach (var ack in delivery.Local?.Acks ?? [])
                {
                    ack.Target.QueueAck(ack.Reference, ack.Message);
                    _touched.Add(ack.Target);
                }

                foreach (var m in stored.Messages)
                {
                    await DeliverInOrderAsync(m, ct);
                }

                // Each socket's writer wakes once for the whole batch and sends its share in one write.
                foreach (var c in _touched)
                {
                    c.Flush();
                }

                _touched.Clear();
                break;
            case TypingEvent t:
                ToMembers(t.Room, Frames.Typing(t.Room, t.Username), except: t.UserId);
                break;
            case ReadEvent r:
                ToMembers(r.Room, Frames.Read(r.Room, r.Username, r.Seq), except: r.UserId);
                break;
            case MemberEvent me:
                await ApplyMemberAsync(me, ct);
                break;
            case DirectRoomEvent d:
                ApplyDirect(d);
                break;
            case PresenceEvent p:
                ToRoommates(p);
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
        }
    }

    private async ValueTask DeliverInOrderAsync(StoredMessage m, CancellationToken ct)
    {
        if (_roomSeq.TryGet(m.Room, out var last))
        {
            if (m.Seq <= last)
            {
                return;
            }

            if (m.Seq > last + 1)
            {
                // A message the bus lost or reordered: read the missing ones before delivering this one.
                var missing = await log.ReadAsync(m.Room, last, m.Seq, (int)Math.Min(m.Seq - last, 10_000), ct);
                Log.GapFilled(logger, m.Room, last + 1, m.Seq - 1);
                metrics.GapsFilled.Add(1);
                foreach (var x in missing)
                {
                    Deliver(x);
                }
            }
        }

        _roomSeq.Set(m.Room, m.Seq);
        Deliver(m);
    }

    private void Deliver(StoredMessage m)
    {
        var room = rooms.Peek(m.Room);
        if (room is null)
        {
            return;
        }

        OutboundMessage? outbound = null;
        foreach (var userId in room.Members)
        {
            foreach (var c in sockets.Of(userId))
            {
                c.QueueMessage(outbound ??= new OutboundMessage(m));
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

            foreach (var c in sockets.Of(me.UserId))
            {
                c.Track(me.Room, me.LastSeq);
            }

            ToMembers(me.Room, Frames.Member(me.Room, me.Username, joined: true));
        }
        else
        {
            // The leaver's sockets hear of it too, then stop receiving the room.
            var frame = Frames.Member(me.Room, me.Username, joined: false);
            foreach (var c in sockets.Of(me.UserId))
            {
                c.SendEvent(frame);
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
            var frame = Frames.Room(d.Room, other, RoomKinds.Direct, d.LastSeq);
            foreach (var c in sockets.Of(user))
            {
                c.Track(d.Room, d.LastSeq);
                c.SendEvent(frame);
            }
        }
    }

    private void ToRoommates(PresenceEvent p)
    {
        var frame = Frames.Presence(p.Username, p.Online);
        var told = new HashSet<Connection>();
        foreach (var roomId in p.Rooms)
        {
            var room = rooms.Peek(roomId);
            if (room is null)
            {
                continue;
            }

            foreach (var userId in room.Members)
            {
                if (userId == p.UserId)
                {
                    continue;
                }

                foreach (var c in sockets.Of(userId))
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
