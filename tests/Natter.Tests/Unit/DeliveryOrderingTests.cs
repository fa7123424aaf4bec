using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Bus.InProcess;
using Natter.Server.Common;
using Natter.Server.Delivery;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Tests.Unit;

/// <summary>
/// Guarantee 3 of the protocol (one contiguous, gapless run per socket) as the writer and the fan-out keep it,
/// against an in-memory room log: no server, no store.
/// </summary>
public sealed class DeliveryOrderingTests
{
    private const string RoomId = "r1";

    [Fact]
    public async Task The_writer_skips_messages_the_socket_already_has()
    {
        var log = new FakeRoomLog();
        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.StartAt([new MyRoom(RoomId, "Room", RoomKinds.Group, LastSeq: 5, ReadSeq: 0)]);
        socket.Connection.FirstFrameHandled();

        foreach (var seq in new long[] { 4, 5, 6 })
        {
            socket.Connection.QueueEvent(new OutboundEvent(log.Add(RoomId, seq)));
        }

        socket.Connection.Flush();
        Assert.Equal(new long[] { 6 }, await socket.NextSeqsAsync(1));
        Assert.Empty(await socket.DrainAsync());
    }

    [Fact]
    public async Task The_writer_fills_a_gap_from_the_log_before_a_later_message()
    {
        var log = new FakeRoomLog();
        for (var seq = 1; seq <= 8; seq++)
        {
            log.Add(RoomId, seq);
        }

        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.StartAt([new MyRoom(RoomId, "Room", RoomKinds.Group, LastSeq: 5, ReadSeq: 0)]);
        socket.Connection.FirstFrameHandled();
        socket.Connection.QueueEvent(new OutboundEvent(log.Add(RoomId, 9)));
        socket.Connection.Flush();

        Assert.Equal(new long[] { 6, 7, 8, 9 }, await socket.NextSeqsAsync(4));
        Assert.Equal(1, log.Reads);
    }

    [Fact]
    public async Task Live_messages_wait_for_the_first_frame_so_a_first_sync_is_answered_before_them()
    {
        var log = new FakeRoomLog();
        log.Add(RoomId, 1);
        log.Add(RoomId, 2);
        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.StartAt([new MyRoom(RoomId, "Room", RoomKinds.Group, LastSeq: 2, ReadSeq: 0)]);

        // A live message arrives before the client's first frame: it is held.
        socket.Connection.QueueEvent(new OutboundEvent(log.Add(RoomId, 3)));
        socket.Connection.Flush();
        Assert.Empty(await socket.DrainAsync());

        // The first frame is a sync from seq 0: the stored messages, then synced, then nothing twice.
        socket.Connection.Sync(new Dictionary<string, long> { [RoomId] = 0 }, "s1");
        socket.Connection.FirstFrameHandled();
        Assert.Equal(new long[] { 1, 2, 3 }, await socket.NextSeqsAsync(3));
        var synced = await socket.NextAsync();
        Assert.Equal("synced", synced.GetProperty("type").GetString());
        Assert.Empty(await socket.DrainAsync());
    }

    [Fact]
    public async Task Control_frames_do_not_wait_behind_held_data()
    {
        var log = new FakeRoomLog();
        await using var socket = new ConnectionUnderTest(log);
        for (var seq = 1; seq <= 50; seq++)
        {
            socket.Connection.QueueEvent(new OutboundEvent(log.Add(RoomId, seq)));
        }

        socket.Connection.Flush();
        socket.Connection.SendControl(Frames.Pong("p"));
        var first = await socket.NextAsync();
        Assert.Equal("pong", first.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_socket_that_falls_too_far_behind_is_closed_with_1013()
    {
        var log = new FakeRoomLog();
        await using var socket = new ConnectionUnderTest(log, dataLimit: 16);
        for (var seq = 1; seq <= 17; seq++)
        {
            socket.Connection.QueueEvent(new OutboundEvent(log.Add(RoomId, seq)));
        }

        var ex = await Assert.ThrowsAnyAsync<Exception>(socket.NextAsync);
        Assert.True(socket.Connection.IsClosing, ex.Message);
        Assert.Equal((WebSocketCloseStatus)1013, socket.CloseStatus);
    }

    [Fact]
    public async Task The_fanout_fills_a_seq_gap_the_bus_left_before_delivering_later_messages()
    {
        var log = new FakeRoomLog();
        var options = Options.Create(new NatterOptions());
        var bus = new InProcessBus(options);
        var registry = new ConnectionRegistry();
        var rooms = new RoomDirectory(UnusedStore.Create(), registry, options);
        rooms.Put(new Room(RoomId, "Room", RoomKinds.Group), 1);
        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.FirstFrameHandled(); // no StartAt: the writer would not fill this gap itself
        registry.Add(socket.Connection);
        var fanout = new Fanout(bus, registry, rooms, log, Metrics.Create(), options, NullLogger<Fanout>.Instance);
        await fanout.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var m1 = log.Add(RoomId, 1);
            log.Add(RoomId, 2);
            log.Add(RoomId, 3);
            var m4 = log.Add(RoomId, 4);
            await bus.PublishAsync(new EventsStored([m1]), TestContext.Current.CancellationToken);
            await bus.PublishAsync(new EventsStored([m4]), TestContext.Current.CancellationToken);

            Assert.Equal(new long[] { 1, 2, 3, 4 }, await socket.NextSeqsAsync(4));
            await fanout.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        }
        finally
        {
            await fanout.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_local_ack_travels_beside_the_event_and_reaches_its_socket()
    {
        var log = new FakeRoomLog();
        var options = Options.Create(new NatterOptions());
        var bus = new InProcessBus(options);
        var registry = new ConnectionRegistry();
        var rooms = new RoomDirectory(UnusedStore.Create(), registry, options);
        rooms.Put(new Room(RoomId, "Room", RoomKinds.Group), 1);
        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.FirstFrameHandled();
        registry.Add(socket.Connection);
        var fanout = new Fanout(bus, registry, rooms, log, Metrics.Create(), options, NullLogger<Fanout>.Instance);
        await fanout.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var m1 = log.Add(RoomId, 1);
            await bus.PublishAsync(new EventsStored([m1]), new LocalEnvelope([new PendingAck(socket.Connection, "ref-1", m1)]),
                TestContext.Current.CancellationToken);

            var ack = await socket.NextAsync();
            Assert.Equal("ack", ack.GetProperty("type").GetString());
            Assert.Equal("ref-1", ack.GetProperty("ref").GetString());
            Assert.Equal(new long[] { 1 }, await socket.NextSeqsAsync(1));
        }
        finally
        {
            await fanout.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_commit_of_interleaved_rooms_reaches_each_member_once_in_each_rooms_order_with_the_senders_ack_first()
    {
        var ct = TestContext.Current.CancellationToken;
        var log = new FakeRoomLog();
        var options = Options.Create(new NatterOptions());
        var bus = new InProcessBus(options);
        var registry = new ConnectionRegistry();
        var rooms = new RoomDirectory(UnusedStore.Create(), registry, options);
        rooms.Put(new Room("r1", "One", RoomKinds.Group), 1, 2);
        rooms.Put(new Room("r2", "Two", RoomKinds.Group), 2, 3);
        await using var amy = new ConnectionUnderTest(log, userId: 1, username: "amy");
        await using var bo = new ConnectionUnderTest(log, userId: 2, username: "bo");
        await using var cy = new ConnectionUnderTest(log, userId: 3, username: "cy");
        foreach (var s in new[] { amy, bo, cy })
        {
            s.Connection.FirstFrameHandled();
            registry.Add(s.Connection);
        }

        var fanout = new Fanout(bus, registry, rooms, log, Metrics.Create(), options, NullLogger<Fanout>.Instance);
        await fanout.StartAsync(ct);
        try
        {
            // One commit: the rooms interleave, and cy's ack is for an event late in it.
            var (a1, b1, a2, b2, a3) = (log.Add("r1", 1), log.Add("r2", 1), log.Add("r1", 2), log.Add("r2", 2), log.Add("r1", 3));
            await bus.PublishAsync(new EventsStored([a1, b1, a2, b2, a3]),
                new LocalEnvelope([new PendingAck(amy.Connection, "amy-1", a1), new PendingAck(cy.Connection, "cy-1", b2)]), ct);

            // The next commit reuses the fan-out's grouping: nothing of the first may come again.
            var (b3, a4) = (log.Add("r2", 3), log.Add("r1", 4));
            await bus.PublishAsync(new EventsStored([b3, a4]), ct);
            await fanout.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(5), ct);

            Assert.Equal(["ack amy-1", "r1 1", "r1 2", "r1 3", "r1 4"], await FramesAsync(amy, 5));
            Assert.Equal(["ack cy-1", "r2 1", "r2 2", "r2 3"], await FramesAsync(cy, 4));

            // bo is in both rooms: each room's messages in seq order, each once.
            var both = await FramesAsync(bo, 7);
            Assert.Equal(["r1 1", "r1 2", "r1 3", "r1 4"], both.Where(f => f.StartsWith("r1", StringComparison.Ordinal)));
            Assert.Equal(["r2 1", "r2 2", "r2 3"], both.Where(f => f.StartsWith("r2", StringComparison.Ordinal)));
            foreach (var s in new[] { amy, bo, cy })
            {
                Assert.Empty(await s.DrainAsync());
            }
        }
        finally
        {
            await fanout.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_writer_woken_from_several_threads_at_once_sends_every_message_once_in_each_rooms_order()
    {
        // Four threads queue to one socket, each its own room, and wake the writer after every message, half of
        // the wakes running the writer on the waking thread: the writer's one reusable wait is raced from all sides.
        const int Rooms = 4, PerRoom = 400;
        var log = new FakeRoomLog();
        await using var socket = new ConnectionUnderTest(log, dataLimit: Rooms * PerRoom);
        socket.Connection.StartAt(Enumerable.Range(0, Rooms).Select(r => new MyRoom($"w{r}", "Room", RoomKinds.Group, LastSeq: 0, ReadSeq: 0)));
        socket.Connection.FirstFrameHandled();
        var events = Enumerable.Range(0, Rooms).Select(r => Enumerable.Range(1, PerRoom).Select(seq => log.Add($"w{r}", seq)).ToList()).ToList();

        using var start = new Barrier(Rooms);
        var senders = Enumerable.Range(0, Rooms).Select(r => Task.Run(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            foreach (var m in events[r])
            {
                socket.Connection.QueueEvent(new OutboundEvent(m));
                if (m.Seq % 2 == 0)
                {
                    socket.Connection.FlushHere();
                }
                else
                {
                    socket.Connection.Flush();
                }
            }
        }, TestContext.Current.CancellationToken)).ToList();

        var seen = Enumerable.Range(0, Rooms).ToDictionary(r => $"w{r}", _ => new List<long>());
        for (var i = 0; i < Rooms * PerRoom; i++)
        {
            var f = await socket.NextAsync();
            seen[f.GetProperty("room").GetString()!].Add(f.GetProperty("seq").GetInt64());
        }

        await Task.WhenAll(senders);
        foreach (var (_, seqs) in seen)
        {
            Assert.Equal(Enumerable.Range(1, PerRoom).Select(x => (long)x), seqs);
        }

        Assert.Empty(await socket.DrainAsync());
    }

    /// <summary>The next n frames as "ack REF" or "ROOM SEQ".</summary>
    private static async Task<List<string>> FramesAsync(ConnectionUnderTest socket, int n)
    {
        var frames = new List<string>();
        for (var i = 0; i < n; i++)
        {
            var f = await socket.NextAsync();
            frames.Add(f.GetProperty("type").GetString() == "ack"
                ? $"ack {f.GetProperty("ref").GetString()}"
                : $"{f.GetProperty("room").GetString()} {f.GetProperty("seq").GetInt64()}");
        }

        return frames;
    }
}
