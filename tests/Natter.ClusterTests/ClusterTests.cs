using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Natter.Server.Common;
using Natter.Server.Storage.MySql;

namespace Natter.ClusterTests;

/// <summary>
/// Several nodes on one MariaDB database and one Redis: each test gets its own database and Redis key prefix,
/// so tests never hear each other. Nodes run in this process (NatterApp on port 0) except the one a test kills.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);
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
                // A node slow to stop must not hide the test's own result.
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

    private async Task<InProcessNode[]> StartNodesAsync(ClusterConfig config, int count)
    {
        _config = config;
        var nodes = new InProcessNode[count];
        for (var i = 0; i < count; i++)
        {
            // One at a time: the first creates the database and the schema.
            nodes[i] = Own(await InProcessNode.StartAsync(config, $"node{i}"));
            _nodes.Add(nodes[i]);
        }

        return nodes;
    }

    private void AssertNoServerErrors()
    {
        var errors = _nodes.SelectMany(n => n.Errors.Lines).ToArray();
        Assert.True(errors.Length == 0, "server error log lines:\n" + string.Join("\n", errors));
    }

    [Fact]
    public async Task Clients_on_three_nodes_see_every_room_and_direct_message_once_in_order()
    {
        var nodes = await StartNodesAsync(ClusterConfig.Create(), 3);
        string[] names = ["ann", "ben", "cat"];

        // Every token comes from node0's login: sessions live in the shared store, so they work on every node.
        var tokens = new string[3];
        for (var i = 0; i < 3; i++)
        {
            tokens[i] = await Api.RegisterAndLoginAsync(nodes[0], names[i]);
        }

        var room = await Api.CreateRoomAsync(nodes[0], tokens[0], "lobby");
        await Api.JoinAsync(nodes[1], tokens[1], room);
        await Api.JoinAsync(nodes[2], tokens[2], room);
        var clients = new ChatClient[3];
        for (var i = 0; i < 3; i++)
        {
            clients[i] = Own(await ChatClient.ConnectAsync(nodes[i], names[i], tokens[i]));
        }

        foreach (var node in nodes)
        {
            await Api.EventuallyAsync(async () => (await Api.OnlineAsync(node, tokens[0])).SequenceEqual(names), TimeSpan.FromSeconds(5),
                $"{node.Name} lists ann, ben and cat online");
        }

        const int each = 40;
        var groupSends = clients.Select(c => Task.Run(async () =>
        {
            for (var k = 0; k < each; k++)
            {
                await c.SendAsync(room, $"{c.Username} says {k}", $"{c.Username}-{k}");
            }
        }));

        // Direct messages: ann and ben write to each other at the same time from two nodes (both may create the
        // room), cat writes to ann from a third node.
        async Task<string> DirectAsync(ChatClient from, string to, int count)
        {
            var rooms = new HashSet<string>();
            for (var k = 0; k < count; k++)
            {
                rooms.Add((await from.SendAsync(null, $"{from.Username} to {to}: {k}", $"dm-{from.Username}-{k}", to)).Room);
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

        var metrics = await Api.MetricsAsync(nodes[1]);
        Assert.Contains("natter_messages_delivered", metrics, StringComparison.Ordinal);
        Assert.Contains("natter_bus_lag", metrics, StringComparison.Ordinal);
        AssertNoServerErrors();
    }

    [Fact]
    public async Task Concurrent_writers_on_two_nodes_never_produce_a_duplicate_or_missing_seq()
    {
        var config = ClusterConfig.Create();
        var nodes = await StartNodesAsync(config, 2);
        string[] names = ["writer0", "writer1", "writer2", "writer3"];
        var tokens = new string[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            tokens[i] = await Api.RegisterAndLoginAsync(nodes[i % 2], names[i]);
        }

        var room = await Api.CreateRoomAsync(nodes[0], tokens[0], "busy");
        for (var i = 1; i < names.Length; i++)
        {
            await Api.JoinAsync(nodes[i % 2], tokens[i], room);
        }

        var clients = new ChatClient[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            clients[i] = Own(await ChatClient.ConnectAsync(nodes[i % 2], names[i], tokens[i]));
        }

        // Four writers, two per node, each with eight sends in flight: both nodes commit batches into the same room at once.
        const int each = 200;
        var acked = new ConcurrentBag<(string ClientId, long Seq)>();
        await Task.WhenAll(clients.Select(c => Task.Run(async () =>
        {
            for (var k = 0; k < each; k += 8)
            {
                var batch = Enumerable.Range(k, Math.Min(8, each - k)).Select(async j =>
                    acked.Add(($"{c.Username}-{j}", (await c.SendAsync(room, "x", $"{c.Username}-{j}")).Seq)));
                await Task.WhenAll(batch);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(90));

        const int total = each * 4;
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), acked.Select(a => a.Seq).Order());

        var store = new MySqlChatStore(Options.Create(new NatterOptions { Storage = { Provider = "mysql", MySqlConnectionString = config.MySql } }),
            TimeProvider.System, NullLogger<MySqlChatStore>.Instance);
        var stored = await store.ReadMessagesAsync(room, 0, long.MaxValue, total + 10, true, default).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), stored.Select(m => m.Seq));
        Assert.Equal(acked.ToDictionary(a => a.ClientId, a => a.Seq), stored.ToDictionary(m => m.ClientId, m => m.Seq));

        foreach (var c in clients)
        {
            await c.WaitForSeqAsync(room, total, Delivery);
            c.AssertGapless(room, total);
        }

        AssertNoServerErrors();
    }

    [Fact]
    public async Task A_node_killed_mid_stream_loses_nothing_its_clients_resync_elsewhere_and_its_users_go_offline_in_time()
    {
        var config = ClusterConfig.Create();
        var nodes = await StartNodesAsync(config, 2);
        var victim = Own(await ProcessNode.StartAsync(config, "victim"));

        var amy = await Api.RegisterAndLoginAsync(nodes[0], "amy");
        var bob = await Api.RegisterAndLoginAsync(nodes[1], "bob");
        var kim = await Api.RegisterAndLoginAsync(victim, "kim");
        var zed = await Api.RegisterAndLoginAsync(victim, "zed");
        var room = await Api.CreateRoomAsync(nodes[0], amy, "stream");
        await Api.JoinAsync(nodes[1], bob, room);
        await Api.JoinAsync(victim, kim, room);
        await Api.JoinAsync(victim, zed, room);

        var amyC = Own(await ChatClient.ConnectAsync(nodes[0], "amy", amy));
        var bobC = Own(await ChatClient.ConnectAsync(nodes[1], "bob", bob));
        var kimOld = Own(await ChatClient.ConnectAsync(victim, "kim", kim));
        Own(await ChatClient.ConnectAsync(victim, "zed", zed)); // zed stays on the victim and never comes back
        string[] everyone = ["amy", "bob", "kim", "zed"];
        await Api.EventuallyAsync(async () => (await Api.OnlineAsync(nodes[1], amy)).SequenceEqual(everyone), TimeSpan.FromSeconds(5), "all four online");

        var acked = new ConcurrentDictionary<string, long>();
        using var stop = new CancellationTokenSource();
        async Task SenderAsync(ChatClient c)
        {
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                acked[$"{c.Username}-{k}"] = (await c.SendAsync(room, "tick", $"{c.Username}-{k}")).Seq;
                await Task.Delay(10);
            }
        }

        // kim's sender follows kim across the reconnect: a send whose ack was lost goes again with the same client_id.
        ChatClient? kimNew = null;
        async Task KimAsync()
        {
            var current = kimOld;
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                try
                {
                    acked[$"kim-{k}"] = (await current.SendAsync(room, "tick", $"kim-{k}")).Seq;
                    await Task.Delay(10);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException && current == kimOld)
                {
                    await kimOld.Closed.WaitAsync(TimeSpan.FromSeconds(20));
                    current = kimNew = Own(await ChatClient.ConnectAsync(nodes[0], "kim", kim));
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
        await Api.EventuallyAsync(async () =>
                !(await Api.OnlineAsync(nodes[0], amy)).Contains("zed") && !(await Api.OnlineAsync(nodes[1], amy)).Contains("zed")
                && amyC.Presence.Contains(("zed", false)),
            config.PresenceTtl, "zed offline on node0 and node1, and amy told");
        var offlineAfter = killedAt.Elapsed;

        await Task.Delay(1000);
        await stop.CancelAsync();
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(kimNew);
        Assert.Contains("kim", await Api.OnlineAsync(nodes[0], amy));

        var last = acked.Values.Max();
        var kimView = kimOld.Messages(room).Concat(kimNew.Messages(room)).ToList();
        await amyC.WaitForSeqAsync(room, last, Delivery);
        await bobC.WaitForSeqAsync(room, last, Delivery);
        await Api.EventuallyAsync(() => Task.FromResult(kimNew.LastSeq(room) >= last), Delivery, "kim sees everything after the reconnect");
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
        AssertNoServerErrors();
    }

    [Fact]
    public async Task After_Redis_restarts_mid_stream_delivery_resumes_and_gaps_are_filled()
    {
        var redis = Own(await RedisProcess.StartAsync());
        var nodes = await StartNodesAsync(ClusterConfig.Create(redis.Endpoint), 2);
        var amy = await Api.RegisterAndLoginAsync(nodes[0], "amy");
        var bob = await Api.RegisterAndLoginAsync(nodes[1], "bob");
        var room = await Api.CreateRoomAsync(nodes[0], amy, "weather");
        await Api.JoinAsync(nodes[1], bob, room);
        var amyC = Own(await ChatClient.ConnectAsync(nodes[0], "amy", amy));
        var bobC = Own(await ChatClient.ConnectAsync(nodes[1], "bob", bob));

        var acked = new ConcurrentDictionary<string, long>();
        using var stop = new CancellationTokenSource();
        async Task SenderAsync(ChatClient c)
        {
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                acked[$"{c.Username}-{k}"] = (await c.SendAsync(room, "drizzle", $"{c.Username}-{k}")).Seq;
                await Task.Delay(10);
            }
        }

        var senders = new[] { SenderAsync(amyC), SenderAsync(bobC) };
        await Task.Delay(1000);
        redis.Kill();
        foreach (var node in nodes)
        {
            await Api.EventuallyAsync(async () => await Api.HealthAsync(node) == 503, TimeSpan.FromSeconds(10), $"{node.Name} /healthz reports the lost bus");
        }

        await Task.Delay(1000);
        await redis.StartAsync(TimeSpan.FromSeconds(10));
        foreach (var node in nodes)
        {
            await Api.EventuallyAsync(async () => await Api.HealthAsync(node) == 200, TimeSpan.FromSeconds(20), $"{node.Name} /healthz healthy again");
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
        var gaps = (await Api.MetricsAsync(nodes[0])).Split('\n').Single(l => l.StartsWith("natter_bus_gaps_filled_total{", StringComparison.Ordinal));
        Assert.True(double.Parse(gaps[(gaps.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0, gaps);
        AssertNoServerErrors();
    }

    [Fact]
    public async Task A_node_refuses_to_start_when_its_MySQL_or_Redis_cannot_be_reached()
    {
        var closed = Services.FreePort();
        var good = ClusterConfig.Create();
        _config = good;

        var noRedis = Natter.Server.NatterApp.Create([.. good.Args("no-redis"), $"--Natter:Bus:RedisConnectionString=127.0.0.1:{closed}", "--Natter:Bus:RedisConnectTimeout=00:00:01"]);
        var e1 = await Assert.ThrowsAsync<InvalidOperationException>(() => noRedis.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Redis", e1.Message, StringComparison.Ordinal);
        await noRedis.DisposeAsync();

        var badMySql = new MySqlConnector.MySqlConnectionStringBuilder(good.MySql) { Port = (uint)closed, ConnectionTimeout = 2 }.ConnectionString;
        var noMySql = Natter.Server.NatterApp.Create([.. good.Args("no-mysql"), "--Natter:Storage:MySqlConnectionString=" + badMySql]);
        var e2 = await Assert.ThrowsAsync<InvalidOperationException>(() => noMySql.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("MySQL", e2.Message, StringComparison.Ordinal);
        await noMySql.DisposeAsync();
    }
}
