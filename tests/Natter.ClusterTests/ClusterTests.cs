using System.Collections.Concurrent;
using System.Diagnostics;
using Natter.TestSupport.Specs;

namespace Natter.ClusterTests;

/// <summary>
/// Several nodes on one MariaDB database and one Redis: each test gets its own database and Redis key prefix,
/// so tests never hear each other. Nodes run in this process (TestServer) except the one a test kills (ServerProcess).
/// </summary>
public sealed class ClusterTests : ClusterTest
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Clients_on_three_nodes_see_every_room_and_direct_message_once_in_order()
    {
        var nodes = await Cluster.StartNodesAsync(ClusterConfig.Create(), 3);
        string[] names = ["ann", "ben", "cat"];

        // Every token comes from node0's login: sessions live in the shared store, so they work on every node.
        var users = new TestUser[3];
        for (var i = 0; i < 3; i++)
        {
            users[i] = await TestUser.RegisterAsync(nodes[0].BaseUri, names[i]);
        }

        var room = await users[0].CreateRoomAsync("lobby");
        await users[1].At(nodes[1]).JoinAsync(room);
        await users[2].At(nodes[2]).JoinAsync(room);
        var clients = new TestSocket[3];
        for (var i = 0; i < 3; i++)
        {
            clients[i] = await Cluster.ConnectAsync(users[i], nodes[i]);
        }

        foreach (var node in nodes)
        {
            await Wait.UntilAsync(async () => (await users[0].At(node).OnlineAsync()).SequenceEqual(names),
                $"{node.Name} lists ann, ben and cat online", TimeSpan.FromSeconds(5));
        }

        const int each = 40;
        var groupSends = clients.Select(c => Task.Run(async () =>
        {
            for (var k = 0; k < each; k++)
            {
                await c.SendMessageAsync(room, $"{c.Name} says {k}", $"{c.Name}-{k}");
            }
        }));

        // Direct messages: ann and ben write to each other at the same time from two nodes (both may create the
        // room), cat writes to ann from a third node.
        async Task<string> DirectAsync(TestSocket from, string to, int count)
        {
            var rooms = new HashSet<string>();
            for (var k = 0; k < count; k++)
            {
                rooms.Add((await from.SendMessageAsync(null, $"{from.Name} to {to}: {k}", $"dm-{from.Name}-{k}", to)).Room);
            }

            return Assert.Single(rooms);
        }

        var annToBen = DirectAsync(clients[0], "ben", 15);
        var benToAnn = DirectAsync(clients[1], "ann", 15);
        var catToAnn = DirectAsync(clients[2], "ann", 10);
        await Task.WhenAll([.. groupSends, annToBen, benToAnn, catToAnn]).WaitAsync(TimeSpan.FromSeconds(60));

        foreach (var c in clients)
        {
            await c.WaitForSeqAsync(room, 3 * each, Delivery);
            c.AssertGapless(room, 3 * each);
            foreach (var sender in names)
            {
                // Each sender's messages (sent one after another) keep their order for every receiver.
                var mine = c.Messages(room).Where(m => m.From == sender).Select(m => m.ClientId).ToArray();
                Assert.Equal(Enumerable.Range(0, each).Select(k => $"{sender}-{k}"), mine);
            }
        }

        var annBen = await annToBen;
        Assert.Equal(annBen, await benToAnn);
        var annCat = await catToAnn;
        Assert.NotEqual(annBen, annCat);
        foreach (var (c, dm, count) in new[] { (clients[0], annBen, 30), (clients[1], annBen, 30), (clients[0], annCat, 10), (clients[2], annCat, 10) })
        {
            await c.WaitForSeqAsync(dm, count, Delivery);
            c.AssertGapless(dm, count);
        }

        Assert.Empty(clients[2].Messages(annBen));

        var metrics = await nodes[1].MetricsAsync();
        Assert.Contains("natter_messages_delivered", metrics, StringComparison.Ordinal);
        Assert.Contains("natter_bus_lag", metrics, StringComparison.Ordinal);
        Cluster.AssertNoServerErrors();
    }

    [Fact]
    public async Task Concurrent_writers_on_two_nodes_never_produce_a_duplicate_or_missing_seq()
    {
        var config = ClusterConfig.Create();
        var nodes = await Cluster.StartNodesAsync(config, 2);
        string[] names = ["writer0", "writer1", "writer2", "writer3"];
        var users = new TestUser[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            users[i] = await TestUser.RegisterAsync(nodes[i % 2].BaseUri, names[i]);
        }

        var room = await users[0].CreateRoomAsync("busy");
        for (var i = 1; i < names.Length; i++)
        {
            await users[i].JoinAsync(room);
        }

        var clients = new TestSocket[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            clients[i] = await Cluster.ConnectAsync(users[i], nodes[i % 2]);
        }

        // Four writers, two per node, each with eight sends in flight: both nodes commit batches into the same room at once.
        const int each = 200;
        var acked = new ConcurrentBag<(string ClientId, long Seq)>();
        await Task.WhenAll(clients.Select(c => Task.Run(async () =>
        {
            for (var k = 0; k < each; k += 8)
            {
                var batch = Enumerable.Range(k, Math.Min(8, each - k)).Select(async j =>
                    acked.Add(($"{c.Name}-{j}", (await c.SendMessageAsync(room, "x", $"{c.Name}-{j}")).Seq)));
                await Task.WhenAll(batch);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(90));

        const int total = each * 4;
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), acked.Select(a => a.Seq).Order());

        var store = await ChatStores.OpenMySqlAsync(config.MySql);
        var stored = await store.ReadMessagesAsync(room, 0, long.MaxValue, total + 10, true, default).WaitAsync(TimeSpan.FromSeconds(20));
        await ChatStores.CloseAsync(store);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), stored.Select(m => m.Seq));
        Assert.Equal(acked.ToDictionary(a => a.ClientId, a => a.Seq), stored.ToDictionary(m => m.ClientId, m => m.Seq));

        foreach (var c in clients)
        {
            await c.WaitForSeqAsync(room, total, Delivery);
            c.AssertGapless(room, total);
        }

        Cluster.AssertNoServerErrors();
    }

    [Fact]
    public async Task A_node_killed_mid_stream_loses_nothing_its_clients_resync_elsewhere_and_its_users_go_offline_in_time()
    {
        var config = ClusterConfig.Create();
        var nodes = await Cluster.StartNodesAsync(config, 2);
        var victim = await Cluster.StartProcessAsync(ClusterScope.Node(config, "victim"));

        var amy = await TestUser.RegisterAsync(nodes[0].BaseUri, "amy");
        var bob = await TestUser.RegisterAsync(nodes[1].BaseUri, "bob");
        var kim = await TestUser.RegisterAsync(victim.BaseUri, "kim");
        var zed = await TestUser.RegisterAsync(victim.BaseUri, "zed");
        var room = await amy.CreateRoomAsync("stream");
        await bob.JoinAsync(room);
        await kim.JoinAsync(room);
        await zed.JoinAsync(room);

        var amyC = await Cluster.ConnectAsync(amy, nodes[0]);
        var bobC = await Cluster.ConnectAsync(bob, nodes[1]);
        var kimOld = await Cluster.ConnectAsync(kim, victim);
        await Cluster.ConnectAsync(zed, victim); // zed stays on the victim and never comes back
        string[] everyone = ["amy", "bob", "kim", "zed"];
        await Wait.UntilAsync(async () => (await amy.At(nodes[1]).OnlineAsync()).SequenceEqual(everyone), "all four online", TimeSpan.FromSeconds(5));

        var acked = new ConcurrentDictionary<string, long>();
        using var stop = new CancellationTokenSource();
        async Task SenderAsync(TestSocket c)
        {
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                acked[$"{c.Name}-{k}"] = (await c.SendMessageAsync(room, "tick", $"{c.Name}-{k}")).Seq;
                await Task.Delay(10);
            }
        }

        // kim's sender follows kim across the reconnect: a send whose ack was lost goes again with the same client_id.
        TestSocket? kimNew = null;
        async Task KimAsync()
        {
            var current = kimOld;
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                try
                {
                    acked[$"kim-{k}"] = (await current.SendMessageAsync(room, "tick", $"kim-{k}")).Seq;
                    await Task.Delay(10);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException && current == kimOld)
                {
                    await kimOld.Closed.WaitAsync(TimeSpan.FromSeconds(20));
                    current = kimNew = await Cluster.ConnectAsync(kim, nodes[0]);
                    await current.SyncAsync(new Dictionary<string, long> { [room] = kimOld.LastSeq(room) });
                    k--;
                }
            }
        }

        var senders = new[] { SenderAsync(amyC), SenderAsync(bobC), KimAsync() };
        await Task.Delay(1500);
        var killedAt = Stopwatch.StartNew();
        victim.Kill();

        // zed's only node is gone: every node drops zed within the presence TTL, and amy hears it.
        await Wait.UntilAsync(async () =>
                !(await amy.At(nodes[0]).OnlineAsync()).Contains("zed") && !(await amy.At(nodes[1]).OnlineAsync()).Contains("zed")
                && amyC.Presence.Contains(("zed", false)),
            "zed offline on node0 and node1, and amy told", config.PresenceTtl);
        var offlineAfter = killedAt.Elapsed;

        await Task.Delay(1000);
        await stop.CancelAsync();
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(kimNew);
        Assert.Contains("kim", await amy.At(nodes[0]).OnlineAsync());

        var last = acked.Values.Max();
        var kimView = kimOld.Messages(room).Concat(kimNew.Messages(room)).ToList();
        await amyC.WaitForSeqAsync(room, last, Delivery);
        await bobC.WaitForSeqAsync(room, last, Delivery);
        await Wait.UntilAsync(() => kimNew.LastSeq(room) >= last, "kim sees everything after the reconnect", Delivery);
        kimView = [.. kimOld.Messages(room), .. kimNew.Messages(room)];

        amyC.AssertGapless(room, last);
        bobC.AssertGapless(room, last);
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), kimView.Select(m => m.Seq));
        foreach (var view in new[] { amyC.Messages(room), bobC.Messages(room), kimView })
        {
            var byClientId = view.ToDictionary(m => m.ClientId, m => m.Seq);
            foreach (var (clientId, seq) in acked)
            {
                Assert.Equal(seq, byClientId[clientId]);
            }
        }

        Assert.True(offlineAfter <= config.PresenceTtl, $"zed went offline {offlineAfter.TotalSeconds:F1} s after the kill");
        Cluster.AssertNoServerErrors();
    }

    [Fact]
    public async Task After_Redis_restarts_mid_stream_delivery_resumes_and_gaps_are_filled()
    {
        var redis = Cluster.Own(await RedisProcess.StartAsync());
        var nodes = await Cluster.StartNodesAsync(ClusterConfig.Create(redis.Endpoint), 2);
        var amy = await TestUser.RegisterAsync(nodes[0].BaseUri, "amy");
        var bob = await TestUser.RegisterAsync(nodes[1].BaseUri, "bob");
        var room = await amy.CreateRoomAsync("weather");
        await bob.JoinAsync(room);
        var amyC = await Cluster.ConnectAsync(amy, nodes[0]);
        var bobC = await Cluster.ConnectAsync(bob, nodes[1]);

        var acked = new ConcurrentDictionary<string, long>();
        using var stop = new CancellationTokenSource();
        async Task SenderAsync(TestSocket c)
        {
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                acked[$"{c.Name}-{k}"] = (await c.SendMessageAsync(room, "drizzle", $"{c.Name}-{k}")).Seq;
                await Task.Delay(10);
            }
        }

        var senders = new[] { SenderAsync(amyC), SenderAsync(bobC) };
        await Task.Delay(1000);
        redis.Kill();
        foreach (var node in nodes)
        {
            await Wait.UntilAsync(async () => await node.HealthAsync() == 503, $"{node.Name} /healthz reports the lost bus", TimeSpan.FromSeconds(10));
        }

        await Task.Delay(1000);
        await redis.StartAsync(TimeSpan.FromSeconds(10));
        foreach (var node in nodes)
        {
            await Wait.UntilAsync(async () => await node.HealthAsync() == 200, $"{node.Name} /healthz healthy again", TimeSpan.FromSeconds(20));
        }

        await Task.Delay(1000);
        await stop.CancelAsync();
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));

        // No sync: the fan-out alone must fill what the bus lost while Redis was down.
        var last = acked.Values.Max();
        foreach (var c in new[] { amyC, bobC })
        {
            await c.WaitForSeqAsync(room, last, Delivery);
            c.AssertGapless(room, last);
        }

        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), acked.Values.Order());

        // The outage left gaps, and this node filled them (each node has its own counters, even in one process).
        var gaps = (await nodes[0].MetricsAsync()).Split('\n').Single(l => l.StartsWith("natter_bus_gaps_filled_total{", StringComparison.Ordinal));
        Assert.True(double.Parse(gaps[(gaps.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0, gaps);
        Cluster.AssertNoServerErrors();
    }

    [Fact]
    public async Task A_node_refuses_to_start_when_its_MySQL_or_Redis_cannot_be_reached()
    {
        var closed = TestServices.FreePort();
        var good = ClusterConfig.Create();
        Cluster.Use(good);

        var e1 = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(
            ClusterScope.Node(good, "no-redis", $"Natter:Bus:RedisConnectionString=127.0.0.1:{closed}", "Natter:Bus:RedisConnectTimeout=00:00:01")));
        Assert.Contains("Redis", e1.Message, StringComparison.Ordinal);

        var badMySql = new MySqlConnector.MySqlConnectionStringBuilder(good.MySql) { Port = (uint)closed, ConnectionTimeout = 2 }.ConnectionString;
        var e2 = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(
            ClusterScope.Node(good, "no-mysql", "Natter:Storage:MySqlConnectionString=" + badMySql)));
        Assert.Contains("MySQL", e2.Message, StringComparison.Ordinal);
    }
}
