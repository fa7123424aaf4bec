using System.Data.Common;
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

/// <summary>A room log whose reads can fail (the store went away) or wait (a slow store) until the test says so.</summary>
internal sealed class FaultyRoomLog : IRoomLogReader
{
    private readonly FakeRoomLog _log = new();
    private TaskCompletionSource _open = Open();

    /// <summary>While true every read throws, as a store whose server is gone does.</summary>
    public bool Failing { get; set; }

    public int Reads { get; private set; }

    public StoredEvent Add(string room, long seq) => _log.Add(room, seq);

    /// <summary>Reads wait from now on until <see cref="Release"/>.</summary>
    public void Hold() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _open.TrySetResult();

    public async ValueTask<IReadOnlyList<StoredEvent>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct)
    {
        Reads++;
        await _open.Task.WaitAsync(ct);
        if (Failing)
        {
            throw new StoreDownException();
        }

        return await _log.ReadAsync(room, afterSeq, beforeSeq, limit, ct);
    }

    private static TaskCompletionSource Open()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }

    private sealed class StoreDownException() : DbException("Unable to connect to any of the specified MySQL hosts.");
}

/// <summary>
/// What a socket and the fan-out do when the store fails or is slow (issue 14): a socket is never left silent, and
/// acks never wait behind a read of the store.
/// </summary>
public sealed class StoreFaultTests
{
    private const string RoomId = "r1";

    [Fact]
    public async Task A_sync_the_store_cannot_answer_gets_an_internal_error_and_the_socket_keeps_working()
    {
        var log = new FaultyRoomLog();
        for (var seq = 1; seq <= 3; seq++)
        {
            log.Add(RoomId, seq);
        }

        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.StartAt([new MyRoom(RoomId, "Room", RoomKinds.Group, LastSeq: 3, ReadSeq: 0)]);
        socket.Connection.FirstFrameHandled();

        log.Failing = true;
        socket.Connection.Sync(new Dictionary<string, long> { [RoomId] = 0 }, "s1");
        var error = await socket.NextAsync();
        Assert.Equal(("error", "internal", "s1"),
            (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("ref").GetString()));

        // The writer goes on: a pong still leaves, and once the store is back a sync is answered in full.
        socket.Connection.SendControl(Frames.Pong("p1"));
        Assert.Equal("pong", (await socket.NextAsync()).GetProperty("type").GetString());
        log.Failing = false;
        socket.Connection.Sync(new Dictionary<string, long> { [RoomId] = 0 }, "s2");
        Assert.Equal(new long[] { 1, 2, 3 }, await socket.NextSeqsAsync(3));
        Assert.Equal("synced", (await socket.NextAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_gap_the_store_cannot_fill_closes_the_socket_with_1011_so_the_client_reconnects_and_syncs()
    {
        var log = new FaultyRoomLog();
        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.StartAt([new MyRoom(RoomId, "Room", RoomKinds.Group, LastSeq: 5, ReadSeq: 0)]);
        socket.Connection.FirstFrameHandled();

        log.Failing = true;
        socket.Connection.QueueEvent(new OutboundEvent(log.Add(RoomId, 9)));
        socket.Connection.Flush();

        // Sending seq 9 without 6..8 would break the one-run-per-room promise; closing lets the client sync.
        await Assert.ThrowsAsync<WebSocketException>(socket.NextAsync);
        Assert.Equal((WebSocketCloseStatus)1011, socket.CloseStatus);
    }

    [Fact]
    public async Task Acks_leave_while_the_fanout_waits_for_a_gap_read_and_the_room_keeps_its_order()
    {
        var log = new FaultyRoomLog();
        var options = Options.Create(new NatterOptions());
        var bus = new InProcessBus(options);
        var registry = new ConnectionRegistry();
        var rooms = new RoomDirectory(UnusedStore.Create(), registry, options);
        rooms.Put(new Room("slow", "Slow", RoomKinds.Group), 1);
        rooms.Put(new Room(RoomId, "Room", RoomKinds.Group), 1);
        await using var socket = new ConnectionUnderTest(log);
        socket.Connection.FirstFrameHandled();
        registry.Add(socket.Connection);
        var fanout = new Fanout(bus, registry, rooms, log, Metrics.Create(), options, NullLogger<Fanout>.Instance);
        await fanout.StartAsync(TestContext.Current.CancellationToken);
        var ct = TestContext.Current.CancellationToken;
        try
        {
            // The slow room has a gap (2..3, from another node) and the store is slow to answer the read.
            await bus.PublishAsync(new EventsStored([log.Add("slow", 1)]), ct);
            Assert.Equal(new long[] { 1 }, await socket.NextSeqsAsync(1));
            log.Add("slow", 2);
            log.Add("slow", 3);
            log.Hold();
            await bus.PublishAsync(new EventsStored([log.Add("slow", 4)]), ct);
            await bus.PublishAsync(new EventsStored([log.Add("slow", 5)]), ct);

            // This node's own send in another room is stored meanwhile: its ack and its message do not wait.
            var mine = log.Add(RoomId, 1);
            await bus.PublishAsync(new EventsStored([mine]), new LocalEnvelope([new PendingAck(socket.Connection, "mine", mine)]), ct);
            var ack = await socket.NextAsync();
            Assert.Equal(("ack", "mine"), (ack.GetProperty("type").GetString(), ack.GetProperty("ref").GetString()));
            var message = await socket.NextAsync();
            Assert.Equal((RoomId, 1L), (message.GetProperty("room").GetString(), message.GetProperty("seq").GetInt64()));

            // Once the read answers, the slow room arrives whole and in order.
            log.Release();
            Assert.Equal(new long[] { 2, 3, 4, 5 }, await socket.NextSeqsAsync(4));
            await fanout.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(5), ct);
        }
        finally
        {
            log.Release();
            await fanout.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_gap_read_that_fails_is_tried_again_and_the_room_still_arrives_whole()
    {
        var log = new FaultyRoomLog();
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
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await bus.PublishAsync(new EventsStored([log.Add(RoomId, 1)]), ct);
            Assert.Equal(new long[] { 1 }, await socket.NextSeqsAsync(1));
            log.Add(RoomId, 2);
            log.Failing = true;
            await bus.PublishAsync(new EventsStored([log.Add(RoomId, 3)]), ct);
            await Task.Delay(300, ct);
            log.Failing = false;

            // No later message comes to reveal the gap again: the fan-out itself tries the read again.
            Assert.Equal(new long[] { 2, 3 }, await socket.NextSeqsAsync(2));
        }
        finally
        {
            await fanout.StopAsync(CancellationToken.None);
        }
    }
}
