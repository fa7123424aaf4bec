using System.Diagnostics;

namespace Natter.ClusterTests;

/// <summary>
/// Faults on one node's links, cut and healed mid-stream through a <see cref="FaultProxy"/>: MariaDB gone (reset and
/// refused), MariaDB silent in the middle of a commit that holds room locks, Redis silent past half the presence
/// TTL. What must hold afterwards: no acked message lost (the <see cref="History"/> checker), no socket left a zombie,
/// the other nodes keep acking, presence agrees with the open sockets everywhere, and the logs stay readable.
/// Every wait is a generous liveness bound, never a timing claim.
/// </summary>
public sealed class PartitionTests : ClusterTest
{
    private static readonly TimeSpan Catchup = TimeSpan.FromSeconds(30);

    /// <summary>A node in this process; it fails the test when it logged an error (checked as it stops).</summary>
    private Task<TestServer> NodeAsync(ClusterConfig config, string name, params string[] settings) =>
        Cluster.StartNodeAsync(new ServerOptions { Name = name, Cluster = config, Settings = settings.Length == 0 ? Faults.StoreTimeouts : settings });

    private static async Task<TestUser> UserAsync(TestServer node, string name) => (await TestUser.RegisterAsync(node.BaseUri, name)).At(node);

    private async Task<Chatter> ChatterAsync(TestUser user, IServerUnderTest node, string[] rooms, History history)
    {
        var chatter = new Chatter(user, node, rooms, history);
        await chatter.ConnectAsync();
        Cluster.Own(new Closer(chatter));
        return chatter;
    }

    [Fact]
    public async Task A_sync_that_meets_a_dead_store_is_answered_internal_and_the_socket_keeps_answering()
    {
        var config = ClusterConfig.Create();
        var mysql = Cluster.Own(new FaultProxy(Faults.MySqlPort));
        var node = await NodeAsync(config, "node0", Faults.ThroughMySqlProxy(config, mysql));
        var user = await UserAsync(node, "amy");
        var room = await user.CreateRoomAsync("notes");
        var amy = Cluster.Own(await TestSocket.ConnectAsync(new Uri(node.BaseUri, "/ws"), user.Token, name: "amy"));
        await amy.WelcomeAsync();
        for (var k = 0; k < 3; k++)
        {
            await amy.SendMessageAsync(room, "before", $"b{k}");
        }

        await amy.SyncAsync(new Dictionary<string, long> { [room] = 0 });

        // MariaDB dies: its connections are reset and new ones refused.
        mysql.Drop(refuse: true);
        var answer = await Record.ExceptionAsync(() => amy.SyncAsync(new Dictionary<string, long> { [room] = 0 }));
        if (Chatter.IsOpen(amy))
        {
            // Answered and alive: the sync got `internal`, and a ping still gets its pong.
            Assert.True(answer is InvalidOperationException && answer.Message.Contains("\"internal\"", StringComparison.Ordinal),
                $"the sync during the outage got: {answer?.GetType().Name} {answer?.Message}");
            await Chatter.PingAsync(amy, TimeSpan.FromSeconds(10));
        }
        else
        {
            Assert.Equal(1011, (int?)amy.Raw.CloseStatus);
        }

        mysql.Resume();
        var socket = amy;
        if (!Chatter.IsOpen(amy))
        {
            socket = Cluster.Own(await TestSocket.ConnectAsync(new Uri(node.BaseUri, "/ws"), user.Token, name: "amy"));
            await socket.WelcomeAsync();
        }

        await Wait.UntilAsync(async () =>
        {
            try
            {
                await socket.SendMessageAsync(room, "after", "a1");
                await socket.SyncAsync(new Dictionary<string, long> { [room] = 0 });
                return true;
            }
            catch (InvalidOperationException e) when (e.Message.Contains("\"internal\"", StringComparison.Ordinal))
            {
                return false;
            }
        }, "a send and a sync succeed once MariaDB is back", TimeSpan.FromSeconds(20));
        await Chatter.PingAsync(socket, TimeSpan.FromSeconds(10));
        Assert.Contains(socket.Messages(room), m => m.ClientId == "a1");
    }

    [Fact]
    public async Task A_node_cut_off_from_MariaDB_while_it_holds_a_room_lock_stops_no_other_room_and_that_room_only_briefly()
    {
        var config = ClusterConfig.Create();
        var mysql = Cluster.Own(new FaultProxy(Faults.MySqlPort));
        var healthy = await NodeAsync(config, "node0");
        var cut = await NodeAsync(config, "node1", Faults.ThroughMySqlProxy(config, mysql));

        var history = new History();
        var quinn1 = await UserAsync(healthy, "quinn1");
        var quinn2 = await UserAsync(healthy, "quinn2");
        var pat1 = await UserAsync(healthy, "pat1");
        var stuck = await quinn1.CreateRoomAsync("stuck");
        var free = await quinn1.CreateRoomAsync("free");
        await pat1.JoinAsync(stuck);
        await quinn2.JoinAsync(free);
        var q1 = await ChatterAsync(quinn1, healthy, [stuck, free], history);
        var q2 = await ChatterAsync(quinn2, healthy, [free], history); // never waits on the stuck room
        var p1 = await ChatterAsync(pat1, cut, [stuck], history);

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
        await Wait.UntilAsync(() => q1.AcksBetween(cutAt + second, long.MaxValue, free) + q2.AcksBetween(cutAt + second, long.MaxValue, free) > 5,
            "node0 acks messages in the free room while node1 holds the stuck room's lock", TimeSpan.FromSeconds(5));

        // ...and the stuck room itself once MariaDB has rolled back the silent node's idle transaction.
        await Wait.UntilAsync(() => q1.AcksBetween(cutAt + second, long.MaxValue, stuck) > 5,
            "node0 acks messages in the stuck room again while node1 is still cut off", TimeSpan.FromSeconds(8));
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
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"figures: {history.AckCount} acks checked; the free room got {freeDuring} acks on node0 while node1 held the lock; the stuck room moved again {resumedAfter:F1} s after node1 went silent");
    }

    [Fact]
    public async Task After_a_node_is_cut_off_from_Redis_past_half_the_TTL_every_node_and_every_client_agree_on_who_is_online()
    {
        var config = ClusterConfig.Create();
        var redis = Cluster.Own(new FaultProxy(Faults.RedisPort));
        var node0 = await NodeAsync(config, "node0");
        var node1 = await NodeAsync(config, "node1", [.. Faults.StoreTimeouts, Faults.ThroughRedisProxy(redis)]);
        var users = new Dictionary<string, TestUser>();
        foreach (var name in new[] { "ann", "bob", "cat", "dan" })
        {
            users[name] = await UserAsync(node0, name);
        }

        var hall = await users["ann"].CreateRoomAsync("hall");
        foreach (var name in new[] { "bob", "cat", "dan" })
        {
            await users[name].JoinAsync(hall);
        }

        async Task<TestSocket> ConnectAsync(string name, IServerUnderTest node)
        {
            var socket = Cluster.Own(await TestSocket.ConnectAsync(new Uri(node.BaseUri, "/ws"), users[name].Token, name: name));
            await socket.WelcomeAsync();
            return socket;
        }

        var ann = await ConnectAsync("ann", node0);
        var cat = await ConnectAsync("cat", node0);
        var bob = await ConnectAsync("bob", node1);
        var dan = await ConnectAsync("dan", node1);
        string[] everyone = ["ann", "bob", "cat", "dan"];
        foreach (var node in new IServerUnderTest[] { node0, node1 })
        {
            await Wait.UntilAsync(async () => (await users["ann"].At(node).OnlineAsync()).SequenceEqual(everyone),
                $"{node.Name} lists all four online", TimeSpan.FromSeconds(10));
        }

        // Frames from here on change what each client believes; before the cut all four were online.
        var from = new Dictionary<TestSocket, int> { [ann] = ann.Presence.Count, [bob] = bob.Presence.Count };

        redis.Pause();
        await Wait.UntilAsync(async () => !(await users["ann"].At(node0).OnlineAsync()).Contains("bob"),
            "node0 sweeps node1, whose heartbeat stopped", config.PresenceTtl * 2);

        // While node1 is cut off: cat leaves for good (node1 cannot hear it), and dan moves from node1 to node0.
        await cat.DisposeAsync();
        await dan.DisposeAsync();
        var dan2 = await ConnectAsync("dan", node0);
        from[dan2] = 0;
        var dan2Initially = (await users["dan"].At(node0).OnlineAsync()).ToHashSet();
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
            var l0 = await users["ann"].At(node0).OnlineAsync();
            var l1 = await users["ann"].At(node1).OnlineAsync();
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
        var mysql = Cluster.Own(new FaultProxy(Faults.MySqlPort));

        // Its own process: the test reads the node's log as an operator would.
        var node = await Cluster.StartProcessAsync(new ServerOptions
        {
            Name = "node0",
            Cluster = config,
            Settings = [.. Faults.ThroughMySqlProxy(config, mysql), "Logging:LogLevel:Natter=Information"],
        });
        var user = await TestUser.RegisterAsync(node.BaseUri, "amy");
        var room = await user.CreateRoomAsync("log");
        var history = new History();
        var amy = await ChatterAsync(user, node, [room], history);
        using var stop = new CancellationTokenSource();
        var sender = amy.RunAsync(TimeSpan.FromMilliseconds(10), stop.Token);
        await Wait.UntilAsync(() => history.AckCount > 5, "amy's first acks", TimeSpan.FromSeconds(10));

        var before = node.Output.Split('\n').Length;
        mysql.Drop(refuse: true);
        await Task.Delay(4000);
        mysql.Resume();
        var acked = history.AckCount;
        await Wait.UntilAsync(() => history.AckCount > acked + 5, "acks again after the outage", TimeSpan.FromSeconds(20));
        await Task.Delay(1500);
        await stop.CancelAsync();
        await sender.WaitAsync(TimeSpan.FromSeconds(30));

        // Console lines look like "... warn: Natter.Server.Storage.StoreHealth[34] => node node0 The store is ...".
        var lines = node.Output.Split('\n').Skip(before).ToArray();
        var logged = lines.Where(l => l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal)
            || l.Contains(" crit: ", StringComparison.Ordinal)).ToArray();
        var text = string.Join("\n", logged.Take(20).Select(l => l.Length > 300 ? l[..300] : l));
        Assert.True(logged.Length <= 6, $"{logged.Length} warning/error lines for one 4-second outage:\n{text}");
        Assert.Single(logged, l => l.Contains("StoreHealth[34]", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("StoreHealth[36]", StringComparison.Ordinal));
        Assert.True(logged.Count(l => l.Contains("   at ", StringComparison.Ordinal)) <= 1, "one stack trace at most:\n" + text);
        Assert.Empty(amy.Problems);
    }

    [Fact]
    public async Task A_node_cut_from_MariaDB_and_then_from_Redis_mid_stream_loses_no_acked_message_leaves_no_zombie_and_presence_converges()
    {
        var config = ClusterConfig.Create();
        var mysql = Cluster.Own(new FaultProxy(Faults.MySqlPort));
        var redis = Cluster.Own(new FaultProxy(Faults.RedisPort));
        var node0 = await NodeAsync(config, "node0");
        var node1 = await NodeAsync(config, "node1");
        var node2 = await NodeAsync(config, "node2", [.. Faults.ThroughMySqlProxy(config, mysql), Faults.ThroughRedisProxy(redis)]);
        IServerUnderTest[] nodes = [node0, node1, node2];

        var history = new History();
        string[] names = ["ann0", "bob0", "ann1", "bob1", "ann2", "bob2"];
        var users = new List<TestUser>();
        foreach (var name in names)
        {
            users.Add(await UserAsync(node0, name));
        }

        var red = await users[0].CreateRoomAsync("red");
        var blue = await users[0].CreateRoomAsync("blue");
        foreach (var user in users.Skip(1))
        {
            await user.JoinAsync(red);
            await user.JoinAsync(blue);
        }

        var chatters = new Chatter[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            chatters[i] = await ChatterAsync(users[i], nodes[i / 2], i % 2 == 0 ? [red, blue] : [blue, red], history);
        }

        foreach (var node in nodes)
        {
            await Wait.UntilAsync(async () => (await users[0].At(node).OnlineAsync()).Length == names.Length,
                $"{node.Name} lists all six online", TimeSpan.FromSeconds(10));
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
            await Chatter.PingAsync(c.Socket, TimeSpan.FromSeconds(10));
            Assert.All(c.ServerCloses, code => Assert.Contains(code, new int?[] { 1011, 1013, 1001 }));
        }

        // Presence: all six are online, on every node and in every client's last frames (sockets replaced since the
        // start began with everyone online too: they all were, throughout).
        var settling = Stopwatch.GetTimestamp();
        await Wait.UntilAsync(async () =>
        {
            foreach (var node in nodes)
            {
                if ((await users[0].At(node).OnlineAsync()).Length != names.Length)
                {
                    return false;
                }
            }

            return chatters.All(c => names.Where(n => n != c.Name).All(n =>
                Faults.Believes(c.Socket, c.Sockets.Count == 1 ? presenceFrom[c.Name] : 0, n, initially: true)));
        }, "every node and every client sees all six online", config.PresenceTtl * 3);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"figures: {history.AckCount} acks checked on {chatters.Sum(c => c.Sockets.Count)} sockets, report clean; node0+node1 acked "
            + $"{HealthyAcks(mysqlCut, mysqlHealed)} during the 4 s MariaDB cut and {HealthyAcks(redisCut, redisHealed)} during the 4 s Redis cut; "
            + $"server closes {string.Join(",", chatters.SelectMany(c => c.ServerCloses))}; presence settled {Faults.Seconds(settling, Stopwatch.GetTimestamp()):F1} s after the senders stopped");
    }

    /// <summary>Closes a chatter's sockets when the test ends.</summary>
    private sealed class Closer(Chatter chatter) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await chatter.CloseAsync();
    }
}
