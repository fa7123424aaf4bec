using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Natter.ClusterTests;

/// <summary>
/// Faults on one node's links, cut and healed mid-stream through a <see cref="FaultProxy"/>: MariaDB gone (reset and
/// refused), MariaDB silent in the middle of a commit that holds room locks, Redis silent past half the presence
/// TTL. What must hold afterwards: no acked message lost (the <see cref="History"/> checker), no socket left a zombie,
/// the other nodes keep acking, presence agrees with the open sockets everywhere, and the logs stay readable.
/// Every wait is a generous liveness bound, never a timing claim.
/// </summary>
public sealed class PartitionTests : IAsyncLifetime
{
    private static readonly TimeSpan Catchup = TimeSpan.FromSeconds(30);
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<InProcessNode> _nodes = [];
    private ClusterConfig? _config;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync();
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
            }
        }

        if (_config is not null)
        {
            await Services.DropDatabaseAsync(_config.Database);
        }
    }

    private T Own<T>(T item) where T : IAsyncDisposable
    {
        _owned.Add(item);
        return item;
    }

    private async Task<InProcessNode> NodeAsync(ClusterConfig config, string name, string[]? args = null, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        _config = config;
        var node = Own(await InProcessNode.StartAsync(config, name, args ?? Faults.StoreTimeouts, configure));
        _nodes.Add(node);
        return node;
    }

    private static void AssertNoErrors(params InProcessNode[] nodes)
    {
        var errors = nodes.SelectMany(n => n.Errors.Lines).ToArray();
        Assert.True(errors.Length == 0, "server error log lines:\n" + string.Join("\n", errors));
    }

    [Fact]
    public async Task A_sync_that_meets_a_dead_store_is_answered_internal_and_the_socket_keeps_answering()
    {
        var config = ClusterConfig.Create();
        var mysql = Own(new FaultProxy(Faults.MySqlPort));
        var node = await NodeAsync(config, "node0", Faults.ThroughMySqlProxy(config, mysql));
        var token = await Api.RegisterAndLoginAsync(node, "amy");
        var room = await Api.CreateRoomAsync(node, token, "notes");
        var amy = Own(await ChatClient.ConnectAsync(node, "amy", token));
        for (var k = 0; k < 3; k++)
        {
            await amy.SendAsync(room, "before", $"b{k}");
        }

        await amy.SyncAsync(new Dictionary<string, long> { [room] = 0 });

        // MariaDB dies: its connections are reset and new ones refused.
        mysql.Drop(refuse: true);
        var answer = await Record.ExceptionAsync(() => amy.SyncAsync(new Dictionary<string, long> { [room] = 0 }));
        if (amy.IsOpen)
        {
            // Answered and alive: the sync got `internal`, and a ping still gets its pong.
            Assert.True(answer is InvalidOperationException && answer.Message.Contains("\"internal\"", StringComparison.Ordinal),
                $"the sync during the outage got: {answer?.GetType().Name} {answer?.Message}");
            await amy.PingAsync(TimeSpan.FromSeconds(10));
        }
        else
        {
            Assert.Equal(1011, (int?)amy.CloseStatus);
        }

        mysql.Resume();
        var socket = amy.IsOpen ? amy : Own(await ChatClient.ConnectAsync(node, "amy", token));
        await Api.EventuallyAsync(async () =>
        {
            try
            {
                await socket.SendAsync(room, "after", "a1");
                await socket.SyncAsync(new Dictionary<string, long> { [room] = 0 });
                return true;
            }
            catch (InvalidOperationException e) when (e.Message.Contains("\"internal\"", StringComparison.Ordinal))
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "a send and a sync succeed once MariaDB is back");
        await socket.PingAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(socket.Messages(room), m => m.ClientId == "a1");
        AssertNoErrors(node);
    }

    [Fact]
    public async Task A_node_cut_off_from_MariaDB_while_it_holds_a_room_lock_stops_no_other_room_and_that_room_only_briefly()
    {
        var config = ClusterConfig.Create();
        var mysql = Own(new FaultProxy(Faults.MySqlPort));
        var healthy = await NodeAsync(config, "node0");
        var cut = await NodeAsync(config, "node1", Faults.ThroughMySqlProxy(config, mysql));

        var history = new History();
        var tokens = new Dictionary<string, string>();
        foreach (var name in new[] { "quinn1", "quinn2", "pat1" })
        {
            tokens[name] = await Api.RegisterAndLoginAsync(healthy, name);
        }

        var stuck = await Api.CreateRoomAsync(healthy, tokens["quinn1"], "stuck");
        var free = await Api.CreateRoomAsync(healthy, tokens["quinn1"], "free");
        foreach (var name in new[] { "quinn2", "pat1" })
        {
            await Api.JoinAsync(healthy, tokens[name], stuck);
        }

        await Api.JoinAsync(healthy, tokens["quinn2"], free);
        var q1 = new Chatter("quinn1", tokens["quinn1"], healthy, [stuck, free], history);
        var q2 = new Chatter("quinn2", tokens["quinn2"], healthy, [free], history); // never waits on the stuck room
        var p1 = new Chatter("pat1", tokens["pat1"], cut, [stuck], history);
        foreach (var c in new[] { q1, q2, p1 })
        {
            await c.ConnectAsync();
            Own(new Closer(c));
        }

        using var stop = new CancellationTokenSource();
        var senders = new[] { q1.RunAsync(TimeSpan.FromMilliseconds(20), stop.Token), q2.RunAsync(TimeSpan.FromMilliseconds(20), stop.Token) };
        await Task.Delay(1000);

        // node1 takes the stuck room's lock for its commit and goes silent before the INSERT: the lock stays held.
        var triggered = mysql.PauseWhenClientSends("INSERT INTO messages");
        var p1Send = p1.RunAsync(TimeSpan.FromMilliseconds(50), stop.Token);
        await triggered.WaitAsync(TimeSpan.FromSeconds(10));
        var cutAt = Stopwatch.GetTimestamp();
        var second = Stopwatch.Frequency;

        // The free room keeps being acked on node0 while node1 is silent...
        await Api.EventuallyAsync(() => Task.FromResult(q1.AcksBetween(cutAt + second, long.MaxValue, free) + q2.AcksBetween(cutAt + second, long.MaxValue, free) > 5),
            TimeSpan.FromSeconds(5), "node0 acks messages in the free room while node1 holds the stuck room's lock");

        // ...and the stuck room itself once MariaDB has rolled back the silent node's idle transaction.
        await Api.EventuallyAsync(() => Task.FromResult(q1.AcksBetween(cutAt + second, long.MaxValue, stuck) + q2.AcksBetween(cutAt + second, long.MaxValue, stuck) > 5),
            TimeSpan.FromSeconds(8), "node0 acks messages in the stuck room again while node1 is still cut off");
        Assert.True(mysql.IsPaused, "the link was healed before the stuck room moved");
        var resumedAfter = Faults.Seconds(cutAt, Stopwatch.GetTimestamp());
        var freeDuring = q1.AcksBetween(cutAt, Stopwatch.GetTimestamp(), free) + q2.AcksBetween(cutAt, Stopwatch.GetTimestamp(), free);

        mysql.Resume();
        await Task.Delay(1500);
        await stop.CancelAsync();
        await Task.WhenAll([.. senders, p1Send]).WaitAsync(TimeSpan.FromSeconds(40));

        foreach (var c in new[] { q1, q2, p1 })
        {
            Assert.Empty(c.Problems);
            await c.CatchUpAsync(Catchup);
        }

        var report = history.Check(await Faults.StoredAsync(config, stuck, free));
        Assert.True(report.Clean, report.ToString());
        Assert.True(p1.AcksBetween(0, long.MaxValue) > 0, "node1 acks again after the heal");
        AssertNoErrors(healthy);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"figures: {history.AckCount} acks checked; the free room got {freeDuring} acks on node0 while node1 held the lock; the stuck room moved again {resumedAfter:F1} s after node1 went silent");
    }

    [Fact]
    public async Task After_a_node_is_cut_off_from_Redis_past_half_the_TTL_every_node_and_every_client_agree_on_who_is_online()
    {
        var config = ClusterConfig.Create();
        var redis = Own(new FaultProxy(Faults.RedisPort));
        var node0 = await NodeAsync(config, "node0");
        var node1 = await NodeAsync(config, "node1", [.. Faults.StoreTimeouts, "--Natter:Bus:RedisConnectionString=" + redis.Redis]);
        var tokens = new Dictionary<string, string>();
        foreach (var name in new[] { "ann", "bob", "cat", "dan" })
        {
            tokens[name] = await Api.RegisterAndLoginAsync(node0, name);
        }

        var hall = await Api.CreateRoomAsync(node0, tokens["ann"], "hall");
        foreach (var name in new[] { "bob", "cat", "dan" })
        {
            await Api.JoinAsync(node0, tokens[name], hall);
        }

        var ann = Own(await ChatClient.ConnectAsync(node0, "ann", tokens["ann"]));
        var cat = Own(await ChatClient.ConnectAsync(node0, "cat", tokens["cat"]));
        var bob = Own(await ChatClient.ConnectAsync(node1, "bob", tokens["bob"]));
        var dan = Own(await ChatClient.ConnectAsync(node1, "dan", tokens["dan"]));
        string[] everyone = ["ann", "bob", "cat", "dan"];
        foreach (var node in new INode[] { node0, node1 })
        {
            await Api.EventuallyAsync(async () => (await Api.OnlineAsync(node, tokens["ann"])).SequenceEqual(everyone), TimeSpan.FromSeconds(10),
                $"{node.Name} lists all four online");
        }

        // Frames from here on change what each client believes; before the cut all four were online.
        var from = new Dictionary<ChatClient, int> { [ann] = ann.Presence.Count, [bob] = bob.Presence.Count };

        redis.Pause();
        await Api.EventuallyAsync(async () => !(await Api.OnlineAsync(node0, tokens["ann"])).Contains("bob"), config.PresenceTtl * 2,
            "node0 sweeps node1, whose heartbeat stopped");

        // While node1 is cut off: cat leaves for good (node1 cannot hear it), and dan moves from node1 to node0.
        await cat.DisposeAsync();
        await dan.DisposeAsync();
        var dan2 = Own(await ChatClient.ConnectAsync(node0, "dan", tokens["dan"]));
        from[dan2] = 0;
        var dan2Initially = (await Api.OnlineAsync(node0, tokens["dan"])).ToHashSet();
        await Task.Delay(500);
        redis.Resume();
        var healedAt = Stopwatch.GetTimestamp();

        string[] truth = ["ann", "bob", "dan"];
        var clients = new[] { (ann, "ann"), (bob, "bob"), (dan2, "dan") };
        string Disagreements()
        {
            var wrong = new List<string>();
            foreach (var (client, self) in clients)
            {
                foreach (var user in everyone.Where(u => u != self))
                {
                    var initially = client == dan2 ? dan2Initially.Contains(user) : true;
                    if (Faults.Believes(client, from[client], user, initially) != truth.Contains(user))
                    {
                        wrong.Add($"{self} believes {user} is {(truth.Contains(user) ? "offline" : "online")}");
                    }
                }
            }

            return string.Join("; ", wrong);
        }

        // Within the TTL (three of them, to stay a liveness bound on a busy machine).
        var until = Stopwatch.GetTimestamp() + (long)(config.PresenceTtl.TotalSeconds * 3 * Stopwatch.Frequency);
        while (true)
        {
            var l0 = await Api.OnlineAsync(node0, tokens["ann"]);
            var l1 = await Api.OnlineAsync(node1, tokens["ann"]);
            var wrong = Disagreements();
            if (l0.SequenceEqual(truth) && l1.SequenceEqual(truth) && wrong.Length == 0)
            {
                break;
            }

            Assert.True(Stopwatch.GetTimestamp() < until,
                $"presence has not converged: node0 lists [{string.Join(",", l0)}], node1 [{string.Join(",", l1)}], truth [{string.Join(",", truth)}]; {wrong}");
            await Task.Delay(100);
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"figures: presence converged on both nodes and all three clients {Faults.Seconds(healedAt, Stopwatch.GetTimestamp()):F1} s after the heal (TTL {config.PresenceTtl.TotalSeconds} s)");
    }

    [Fact]
    public async Task A_store_outage_is_logged_once_going_with_a_count_while_gone_and_once_back_not_once_per_failed_commit()
    {
        var config = ClusterConfig.Create();
        var mysql = Own(new FaultProxy(Faults.MySqlPort));
        var lines = new LogLines();
        var node = await NodeAsync(config, "node0", [.. Faults.ThroughMySqlProxy(config, mysql), "--Logging:LogLevel:Natter=Information"],
            b => b.Logging.AddProvider(lines));
        var token = await Api.RegisterAndLoginAsync(node, "amy");
        var room = await Api.CreateRoomAsync(node, token, "log");
        var history = new History();
        var amy = new Chatter("amy", token, node, [room], history);
        await amy.ConnectAsync();
        Own(new Closer(amy));
        using var stop = new CancellationTokenSource();
        var sender = amy.RunAsync(TimeSpan.FromMilliseconds(10), stop.Token);
        await Api.EventuallyAsync(() => Task.FromResult(history.AckCount > 5), TimeSpan.FromSeconds(10), "amy's first acks");

        var outage = Stopwatch.GetTimestamp();
        mysql.Drop(refuse: true);
        await Task.Delay(4000);
        mysql.Resume();
        var acked = history.AckCount;
        await Api.EventuallyAsync(() => Task.FromResult(history.AckCount > acked + 5), TimeSpan.FromSeconds(20), "acks again after the outage");
        await Task.Delay(1500);
        await stop.CancelAsync();
        await sender.WaitAsync(TimeSpan.FromSeconds(30));

        var all = lines.Since(outage);
        var logged = all.Where(l => l.Level >= LogLevel.Warning).ToArray();
        var text = string.Join("\n", logged.Take(20).Select(l => $"{l.Level} {l.Category} {l.Event}: {l.Text}"));
        Assert.True(logged.Length <= 6, $"{logged.Length} warning/error lines for one 4-second outage:\n{text}");
        Assert.Single(logged, l => l.Event == "StoreUnavailable");
        Assert.Single(all, l => l.Event == "StoreAvailable");
        Assert.True(logged.Count(l => l.HasException) <= 1, "one stack trace at most:\n" + text);
        Assert.Empty(amy.Problems);
    }

    [Fact]
    public async Task A_node_cut_from_MariaDB_and_then_from_Redis_mid_stream_loses_no_acked_message_leaves_no_zombie_and_presence_converges()
    {
        var config = ClusterConfig.Create();
        var mysql = Own(new FaultProxy(Faults.MySqlPort));
        var redis = Own(new FaultProxy(Faults.RedisPort));
        var node0 = await NodeAsync(config, "node0");
        var node1 = await NodeAsync(config, "node1");
        var node2 = await NodeAsync(config, "node2",
            [.. Faults.ThroughMySqlProxy(config, mysql), "--Natter:Bus:RedisConnectionString=" + redis.Redis]);
        INode[] nodes = [node0, node1, node2];

        var history = new History();
        string[] names = ["ann0", "bob0", "ann1", "bob1", "ann2", "bob2"];
        var tokens = new Dictionary<string, string>();
        foreach (var name in names)
        {
            tokens[name] = await Api.RegisterAndLoginAsync(node0, name);
        }

        var red = await Api.CreateRoomAsync(node0, tokens["ann0"], "red");
        var blue = await Api.CreateRoomAsync(node0, tokens["ann0"], "blue");
        foreach (var name in names.Skip(1))
        {
            await Api.JoinAsync(node0, tokens[name], red);
            await Api.JoinAsync(node0, tokens[name], blue);
        }

        var chatters = names.Select((n, i) => new Chatter(n, tokens[n], nodes[i / 2], i % 2 == 0 ? [red, blue] : [blue, red], history)).ToArray();
        foreach (var c in chatters)
        {
            await c.ConnectAsync();
            Own(new Closer(c));
        }

        foreach (var node in nodes)
        {
            await Api.EventuallyAsync(async () => (await Api.OnlineAsync(node, tokens["ann0"])).Length == names.Length, TimeSpan.FromSeconds(10),
                $"{node.Name} lists all six online");
        }

        var presenceFrom = chatters.ToDictionary(c => c.Name, c => c.Socket.Presence.Count);
        using var stop = new CancellationTokenSource();
        var senders = chatters.Select(c => c.RunAsync(TimeSpan.FromMilliseconds(25), stop.Token)).ToArray();
        await Task.Delay(1000);
        var healthy = chatters.Where(c => c.Node != node2).ToArray();
        int HealthyAcks(long from, long to) => healthy.Sum(c => c.AcksBetween(from, to));
        var second = Stopwatch.Frequency;

        // 1. node2 goes silent towards MariaDB in the middle of a commit (its room locks held) for 4 s.
        await mysql.PauseWhenClientSends("INSERT INTO messages").WaitAsync(TimeSpan.FromSeconds(10));
        var mysqlCut = Stopwatch.GetTimestamp();
        await Task.Delay(4000);
        mysql.Resume();
        var mysqlHealed = Stopwatch.GetTimestamp();
        await Task.Delay(1500);

        // 2. node2 goes silent towards Redis for 4 s, past half the presence TTL: the others sweep its users.
        redis.Pause();
        var redisCut = Stopwatch.GetTimestamp();
        await Task.Delay(4000);
        redis.Resume();
        var redisHealed = Stopwatch.GetTimestamp();
        await Task.Delay(1500);

        // 3. Both links of node2 are reset at once (MariaDB and Redis restarted under it).
        mysql.Drop();
        redis.Drop();
        await Task.Delay(1500);
        await stop.CancelAsync();
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));

        // The other nodes kept acking through both cuts.
        Assert.True(HealthyAcks(mysqlCut + second, mysqlHealed) > 10, $"node0 and node1 acked {HealthyAcks(mysqlCut + second, mysqlHealed)} while node2 was cut from MariaDB");
        Assert.True(HealthyAcks(redisCut + second, redisHealed) > 10, $"node0 and node1 acked {HealthyAcks(redisCut + second, redisHealed)} while node2 was cut from Redis");
        Assert.True(chatters.Where(c => c.Node == node2).Sum(c => c.AcksBetween(redisHealed, long.MaxValue)) > 0, "node2 acks again after the heals");

        // Nothing acked is lost, duplicated, skipped or out of order, on any socket.
        foreach (var c in chatters)
        {
            Assert.Empty(c.Problems);
            await c.CatchUpAsync(Catchup);
        }

        var report = history.Check(await Faults.StoredAsync(config, red, blue));
        Assert.True(report.Clean, report.ToString());

        // No zombie: every socket still open answers a ping; every one the server ended said why.
        foreach (var c in chatters)
        {
            await c.Socket.PingAsync(TimeSpan.FromSeconds(10));
            Assert.All(c.ServerCloses, code => Assert.Contains(code, new int?[] { 1011, 1013, 1001 }));
        }

        // Presence: all six are online, on every node and in every client's last frames (sockets replaced since the
        // start began with everyone online too: they all were, throughout).
        var settling = Stopwatch.GetTimestamp();
        await Api.EventuallyAsync(async () =>
        {
            foreach (var node in nodes)
            {
                if ((await Api.OnlineAsync(node, tokens["ann0"])).Length != names.Length)
                {
                    return false;
                }
            }

            return chatters.All(c => names.Where(n => n != c.Name).All(n =>
                Faults.Believes(c.Socket, c.Sockets.Count == 1 ? presenceFrom[c.Name] : 0, n, initially: true)));
        }, config.PresenceTtl * 3, "every node and every client sees all six online");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"figures: {history.AckCount} acks checked on {chatters.Sum(c => c.Sockets.Count)} sockets, report clean; node0+node1 acked "
            + $"{HealthyAcks(mysqlCut, mysqlHealed)} during the 4 s MariaDB cut and {HealthyAcks(redisCut, redisHealed)} during the 4 s Redis cut; "
            + $"server closes {string.Join(",", chatters.SelectMany(c => c.ServerCloses))}; presence settled {Faults.Seconds(settling, Stopwatch.GetTimestamp()):F1} s after the senders stopped");
    }

    /// <summary>Closes a chatter's sockets when the test ends.</summary>
    private sealed class Closer(Chatter chatter) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var s in chatter.Sockets)
            {
                await s.DisposeAsync();
            }
        }
    }
}
