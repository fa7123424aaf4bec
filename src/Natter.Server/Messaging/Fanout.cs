using Natter.Server.Bus;
using Natter.Server.Gateway;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Messaging;

/// <summary>
/// Reads this node's bus events and hands each to the local sockets that should see it. A message is serialized
/// once; the same bytes go to every member's sockets. Per room, messages reach sockets in seq order: the node
/// remembers the last seq it handed on and fills a gap from the store before anything later.
/// </summary>
public sealed class Fanout(IMessageBus bus, ConnectionRegistry sockets, RoomDirectory rooms, IChatStore store, ILogger<Fanout> logger)
    : BackgroundService
{
    private readonly Dictionary<string, long> _roomSeq = new(StringComparer.Ordinal);
    private readonly HashSet<IAckTarget> _touched = [];
    private int _busy;

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
            Volatile.Write(ref _busy, 1);
            while (events.TryRead(out var evt))
            {
                try
                {
                    await HandleAsync(evt, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.FanoutFailed(logger, evt.GetType().Name, e);
                }
            }

            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>True when no event is being handled (see RunAsync).</summary>
    public bool IsIdle => Volatile.Read(ref _busy) == 0;

    private async ValueTask HandleAsync(BusEvent evt, CancellationToken ct)
    {
        switch (evt)
        {
            case MessagesStored stored:
                // Acks first (they are control frames and leave ahead of data in the same write).
                foreach (var ack in stored.LocalAcks ?? [])
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
                ToMembers(t.Room, Gateway.Frames.Typing(t.Room, t.Username), except: t.UserId);
                break;
            case ReadEvent r:
                ToMembers(r.Room, Gateway.Frames.Read(r.Room, r.Username, r.Seq), except: r.UserId);
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
        }
    }

    private async ValueTask DeliverInOrderAsync(StoredMessage m, CancellationToken ct)
    {
        if (_roomSeq.TryGetValue(m.Room, out var last))
        {
            if (m.Seq <= last)
            {
                return;
            }

            if (m.Seq > last + 1)
            {
                // A message the bus lost or reordered: read the missing ones before delivering this one.
                var missing = await store.ReadMessagesAsync(m.Room, last, m.Seq, (int)Math.Min(m.Seq - last, 10_000), oldestFirst: true, ct);
                Log.GapFilled(logger, m.Room, last + 1, m.Seq - 1);
                NatterMetrics.GapsFilled.Add(1);
                foreach (var x in missing)
                {
                    Deliver(x);
                }
            }
        }

        _roomSeq[m.Room] = m.Seq;
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

            ToMembers(me.Room, Gateway.Frames.Member(me.Room, me.Username, joined: true));
        }
        else
        {
            // The leaver's sockets hear of it too, then stop receiving the room.
            var frame = Gateway.Frames.Member(me.Room, me.Username, joined: false);
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
            var frame = Gateway.Frames.Room(d.Room, other, RoomKinds.Direct, d.LastSeq);
            foreach (var c in sockets.Of(user))
            {
                c.Track(d.Room, d.LastSeq);
                c.SendEvent(frame);
            }
        }
    }

    private void ToRoommates(PresenceEvent p)
    {
        var frame = Gateway.Frames.Presence(p.Username, p.Online);
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
