using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>The contract's delivery guarantees, on one server.</summary>
public sealed class DeliveryTests
{
    private static long Seq(JsonElement f) => f.GetProperty("seq").GetInt64();

    private static void AssertContiguous(IEnumerable<long> seqs, long first, long last)
    {
        var list = seqs.ToList();
        Assert.Equal(Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i), list);
    }

    [Fact]
    public async Task Two_senders_1000_messages_every_receiver_sees_strictly_increasing_seqs_without_gaps()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SendBurst=1000", "Natter:Limits:SendsPerSecond=1000");
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var c = await server.UserAsync("c");
        var room = await a.CreateRoomAsync();
        await b.JoinAsync(room);
        await c.JoinAsync(room);
        var sa = await a.ConnectAsync();
        var sb = await b.ConnectAsync();
        var sc = await c.ConnectAsync();
        foreach (var s in new[] { sa, sb, sc })
        {
            await s.NextAsync("welcome");
            await s.SendAsync(new { type = "ping" });
            await s.NextAsync("pong");
        }

        var senders = new[] { (sa, "a"), (sb, "b") }.Select(x => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                await x.Item1.SendAsync(new { type = "send", room, text = $"{x.Item2}{i}", client_id = $"{x.Item2}{i}" });
            }
        }));
        await Task.WhenAll(senders);

        foreach (var s in new[] { sa, sb, sc })
        {
            var messages = await s.TakeAsync("message", 1000, TimeSpan.FromSeconds(60));
            AssertContiguous(messages.Select(Seq), 1, 1000);
            // Each sender's own messages keep the order it sent them in.
            foreach (var who in new[] { "a", "b" })
            {
                var mine = messages.Select(m => m.GetProperty("text").GetString()!).Where(t => t.StartsWith(who, StringComparison.Ordinal)).ToList();
                Assert.Equal(Enumerable.Range(0, 500).Select(i => $"{who}{i}"), mine);
            }
        }

        AssertContiguous((await a.AllMessagesAsync(room)).Select(Seq), 1, 1000);
    }

    [Fact]
    public async Task A_receiver_that_reconnects_and_syncs_gets_exactly_the_missed_messages_then_live_ones_in_one_run()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SendBurst=1000", "Natter:Limits:SendsPerSecond=1000");
        var two = await RoomOfTwo.CreateAsync(server);
        var (b, room) = (two.B, two.Room);
        var (sa, sb) = await two.ConnectAsync(ping: true);

        // The sender keeps going the whole time.
        using var stop = new CancellationTokenSource();
        var sent = 0;
        var sender = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && sent < 600)
            {
                await sa.SendAsync(new { type = "send", room, text = $"m{sent}", client_id = $"{sent}" });
                sent++;
                await Task.Delay(2);
            }
        });

        var before = await sb.TakeAsync("message", 50);
        AssertContiguous(before.Select(Seq), 1, 50);
        var lastSeen = Seq(before[^1]);
        await sb.DisposeAsync();
        await Task.Delay(300);

        var again = await b.ConnectAsync();
        await again.NextAsync("welcome");
        await again.SendAsync(new { type = "sync", rooms = new Dictionary<string, long> { [room] = lastSeen }, @ref = "s1" });
        await sender;

        var seqs = new List<long>();
        var synced = false;
        while (seqs.Count == 0 || seqs[^1] < sent)
        {
            var f = await again.NextAsync();
            switch (f.GetProperty("type").GetString())
            {
                case "message":
                    seqs.Add(Seq(f));
                    break;
                case "synced":
                    Assert.Equal("s1", f.GetProperty("ref").GetString());
                    synced = true;
                    break;
            }
        }

        Assert.True(synced);
        AssertContiguous(seqs, lastSeen + 1, sent);
    }

    [Fact]
    public async Task Without_a_sync_live_messages_start_after_the_welcomes_last_seq()
    {
        await using var server = await TestServer.StartAsync("Natter:WebSocket:FirstFrameHold=00:00:00.200");
        var a = await server.UserAsync("a");
        var room = await a.CreateRoomAsync();
        using var http = a.Http();
        for (var i = 0; i < 3; i++)
        {
            await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = $"old{i}", client_id = $"o{i}" });
        }

        var socket = await a.ConnectAsync();
        Assert.Equal(3, (await socket.NextAsync("welcome")).GetProperty("rooms")[0].GetProperty("last_seq").GetInt64());
        await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "new", client_id = "n" });
        var m = await socket.NextAsync("message");
        Assert.Equal(4, Seq(m));
        Assert.Equal("new", m.GetProperty("text").GetString());

        // A later sync is a backfill of what the client asks for.
        await socket.SendAsync(new { type = "sync", rooms = new Dictionary<string, long> { [room] = 0 } });
        var backfill = await socket.TakeAsync("message", 4);
        AssertContiguous(backfill.Select(Seq), 1, 4);
        await socket.NextAsync("synced");
    }

    [Fact]
    public async Task A_socket_that_never_reads_is_closed_with_1013_while_others_keep_receiving()
    {
        await using var server = await TestServer.StartAsync(
            "Natter:Limits:OutboundQueueMessages=256", "Natter:Limits:SendBurst=100000", "Natter:Limits:SendsPerSecond=100000",
            "Natter:WebSocket:CloseTimeout=00:00:01");
        var a = await server.UserAsync("a");
        var slow = await server.UserAsync("slow");
        var fast = await server.UserAsync("fast");
        var room = await a.CreateRoomAsync();
        await slow.JoinAsync(room);
        await fast.JoinAsync(room);

        await using var stalled = await TestSocket.ConnectAsync(new Uri(server.BaseUri, "/ws"), slow.Token, startReading: false);
        var sf = await fast.ConnectAsync();
        await sf.NextAsync("welcome");
        await sf.SendAsync(new { type = "ping" });
        await sf.NextAsync("pong");

        // Big messages over HTTP fill the stalled socket's buffers quickly; the reading socket is waited for after
        // every 50, so it never falls behind, while the stalled one's queue overflows.
        var text = new string('x', 3000);
        const int count = 3000;
        using var http = a.Http();
        var received = new List<JsonElement>();
        for (var i = 0; i < count; i += 50)
        {
            await Task.WhenAll(Enumerable.Range(i, 50).Select(j =>
                http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text, client_id = $"{j}" })));
            received.AddRange(await sf.TakeAsync("message", 50, TimeSpan.FromSeconds(30)));
        }

        AssertContiguous(received.Select(Seq), 1, count);

        // Reading now, the stalled client finds what was buffered, then the 1013 close.
        var buffer = new byte[1 << 16];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        WebSocketReceiveResult r;
        try
        {
            do
            {
                r = await stalled.Raw.ReceiveAsync(buffer, cts.Token);
            }
            while (r.MessageType != WebSocketMessageType.Close);

            Assert.Equal(1013, (int)r.CloseStatus!.Value);
        }
        catch (WebSocketException)
        {
            // The server gave up waiting for the close handshake and reset the connection: the socket is gone either way.
            Assert.NotEqual(WebSocketState.Open, stalled.Raw.State);
        }
    }

    [Fact]
    public async Task Sync_of_rooms_the_user_is_not_in_is_refused_but_the_rest_are_synced()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var mine = await a.CreateRoomAsync();
        var theirs = await b.CreateRoomAsync();
        using var http = a.Http();
        await http.PostAsJsonAsync($"/api/rooms/{mine}/messages", new { text = "x", client_id = "1" });

        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");
        await socket.SendAsync(new { type = "sync", rooms = new Dictionary<string, long> { [theirs] = 0, [mine] = 0, ["rnothing"] = 0 }, @ref = "s" });
        var errors = await socket.TakeAsync("error", 2);
        Assert.Equal(["forbidden", "not_found"], errors.Select(e => e.GetProperty("code").GetString()).Order());
        Assert.Equal(1, Seq(await socket.NextAsync("message")));
        Assert.Equal("s", (await socket.NextAsync("synced")).GetProperty("ref").GetString());
    }

    [Fact]
    public async Task With_the_commit_thread_niced_its_nice_value_is_set_and_messages_are_still_acked_and_delivered_in_order()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:CommitThreadNice=7");
        var (two, sa, sb) = await RoomOfTwo.ConnectedAsync(server);
        var room = two.Room;

        for (var i = 0; i < 20; i++)
        {
            await sa.SendAsync(new { type = "send", room, text = $"m{i}", client_id = $"m{i}", @ref = $"r{i}" });
        }

        Assert.Equal(20, (await sa.TakeAsync("ack", 20, TimeSpan.FromSeconds(30))).Count);
        AssertContiguous((await sb.TakeAsync("message", 20, TimeSpan.FromSeconds(30))).Select(Seq), 1, 20);

        // This process's commit threads (other tests' servers may run beside this one): one of them runs at nice 7.
        var nices = Directory.GetDirectories("/proc/self/task")
            .Where(t => File.Exists(Path.Combine(t, "comm")) && File.ReadAllText(Path.Combine(t, "comm")).Trim() == "natter-group-co")
            .Select(t => File.ReadAllText(Path.Combine(t, "stat")))
            .Select(stat => int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.Contains(7, nices);
    }
}
