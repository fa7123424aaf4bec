using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Natter.ClusterTests;

/// <summary>
/// Rooms with owners across nodes (protocol v2 §4): a removed member stops receiving at once on every node, and
/// membership changes made while the bus is away reach every node once it is back.
/// </summary>
public sealed class ClusterRoomTests : ClusterTest
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    private static double PublishFailures(string metrics) => metrics.Split('\n')
        .Where(l => l.StartsWith("natter_bus_publish_failures_total", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var p) ? p.GetString() : null;

    private static async Task PostAsync(TestUser user, string path, object body, HttpStatusCode expected)
    {
        using var http = user.Http();
        using var r = await http.PostAsJsonAsync(path, body);
        Assert.Equal(expected, r.StatusCode);
    }

    /// <summary>
    /// The kicked user's socket gets the member frame, then "removed"; after a message in the room and then one in
    /// another room it shares, the socket has seen the second and nothing more of the first.
    /// </summary>
    private static async Task AssertRemovedAsync(TestSocket kicked, string room, string username, string reason, TestUser speaker, string otherRoom)
    {
        var member = await kicked.NextAsync(f => Str(f, "type") is "member" or "room" && (Str(f, "room") ?? Str(f, "id")) == room, "the removal", Delivery);
        Assert.Equal(("member", username, reason), (Str(member, "type"), Str(member, "username"), Str(member, "event")));
        var removed = await kicked.NextAsync(f => Str(f, "type") is "member" or "room" && (Str(f, "room") ?? Str(f, "id")) == room, "room removed", Delivery);
        Assert.Equal(("room", "removed"), (Str(removed, "type"), Str(removed, "event")));

        var before = kicked.Messages(room).Count;
        await speaker.PostMessageAsync(room, "after the removal");
        var marker = await speaker.PostMessageAsync(otherRoom, "marker");
        await kicked.WaitForSeqAsync(otherRoom, marker, Delivery);
        Assert.Equal(before, kicked.Messages(room).Count);
    }

    [Fact]
    public async Task A_kick_on_node_A_reaches_the_kicked_users_socket_on_node_B_and_nothing_of_the_room_follows()
    {
        var nodes = await Cluster.StartNodesAsync(ClusterConfig.Create(), 2);
        var amy = (await TestUser.RegisterAsync(nodes[0].BaseUri, "amy")).At(nodes[0]);
        var ben = (await TestUser.RegisterAsync(nodes[1].BaseUri, "ben")).At(nodes[1]);
        var room = await amy.CreateRoomAsync("club");
        var other = await amy.CreateRoomAsync("other");
        await ben.JoinAsync(room);
        await ben.JoinAsync(other);
        var benSocket = await Cluster.ConnectAsync(ben, nodes[1]);

        // Before the kick ben hears the room (so node B has it cached with ben in it).
        var seq = await amy.PostMessageAsync(room, "before");
        await benSocket.WaitForSeqAsync(room, seq, Delivery);

        await PostAsync(amy, $"/api/rooms/{room}/kick", new { username = "ben" }, HttpStatusCode.NoContent);
        await AssertRemovedAsync(benSocket, room, "ben", "kicked", amy, other);
    }

    [Fact]
    public async Task Membership_changes_made_while_Redis_was_down_reach_the_other_node_after_it_restarts()
    {
        var redis = Cluster.Own(await RedisProcess.StartAsync());
        var nodes = await Cluster.StartNodesAsync(ClusterConfig.Create(redis.Endpoint), 2);
        var amy = (await TestUser.RegisterAsync(nodes[0].BaseUri, "amy")).At(nodes[0]);
        var ben = (await TestUser.RegisterAsync(nodes[1].BaseUri, "ben")).At(nodes[1]);
        var cal = (await TestUser.RegisterAsync(nodes[1].BaseUri, "cal")).At(nodes[1]);
        var room = await amy.CreateRoomAsync("club");
        var other = await amy.CreateRoomAsync("other");
        string hideout;
        using (var http = amy.Http())
        {
            using var created = await http.PostAsJsonAsync("/api/rooms", new { name = "hideout", visibility = "private" });
            hideout = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        await ben.JoinAsync(room);
        await ben.JoinAsync(other);
        var benSocket = await Cluster.ConnectAsync(ben, nodes[1]);
        var calSocket = await Cluster.ConnectAsync(cal, nodes[1]);
        var seq = await amy.PostMessageAsync(room, "before");
        await benSocket.WaitForSeqAsync(room, seq, Delivery);

        redis.Kill();
        foreach (var node in nodes)
        {
            await Wait.UntilAsync(async () => await node.HealthAsync() == 503, $"{node.Name} /healthz reports the lost bus", Delivery);
        }

        // While node A cannot reach Redis: ben is kicked and cal invited to a private room, both on node A.
        await PostAsync(amy, $"/api/rooms/{room}/kick", new { username = "ben" }, HttpStatusCode.NoContent);
        await PostAsync(amy, $"/api/rooms/{hideout}/invites", new { username = "cal" }, HttpStatusCode.NoContent);

        await redis.StartAsync(Delivery);
        foreach (var node in nodes)
        {
            await Wait.UntilAsync(async () => await node.HealthAsync() == 200, $"{node.Name} /healthz healthy again", Delivery);
        }

        await AssertRemovedAsync(benSocket, room, "ben", "kicked", amy, other);
        var added = await calSocket.NextAsync(f => Str(f, "type") == "room" && Str(f, "id") == hideout, "the invitation", Delivery);
        Assert.Equal(("added", "member", "private"), (Str(added, "event"), Str(added, "role"), Str(added, "visibility")));
        var hello = await amy.PostMessageAsync(hideout, "welcome, cal");
        await calSocket.WaitForSeqAsync(hideout, hello, Delivery);
    }

    [Fact]
    public async Task A_kick_made_on_a_node_cut_off_from_Redis_reaches_the_other_nodes_when_its_link_returns()
    {
        var config = Cluster.Use(ClusterConfig.Create());
        var proxy = Cluster.Own(new FaultProxy(Faults.RedisPort));
        var node0 = await Cluster.StartNodeAsync(ClusterScope.Node(config, "node0"));
        var node1 = await Cluster.StartNodeAsync(ClusterScope.Node(config, "node1", Faults.ThroughRedisProxy(proxy)));
        var amy = (await TestUser.RegisterAsync(node1.BaseUri, "amy")).At(node1);
        var ben = (await TestUser.RegisterAsync(node0.BaseUri, "ben")).At(node0);
        var room = await amy.CreateRoomAsync("club");
        var other = await amy.CreateRoomAsync("other");
        await ben.JoinAsync(room);
        await ben.JoinAsync(other);
        var benSocket = await Cluster.ConnectAsync(ben, node0);
        var seq = await amy.PostMessageAsync(room, "before");
        await benSocket.WaitForSeqAsync(room, seq, Delivery);

        // node1 loses Redis (its links reset, new ones refused); node0 keeps it and never reconnects.
        proxy.Drop(refuse: true);
        await Wait.UntilAsync(async () => await node1.HealthAsync() == 503, "node1 /healthz reports the lost bus", Delivery);
        await PostAsync(amy, $"/api/rooms/{room}/kick", new { username = "ben" }, HttpStatusCode.NoContent);

        // The kick's publish has failed for good (not just waited in the client's backlog) before the link returns.
        await Wait.UntilAsync(async () => PublishFailures(await node1.MetricsAsync()) > 0, "node1 counts the kick's failed publish", Delivery);
        proxy.Resume();
        await Wait.UntilAsync(async () => await node1.HealthAsync() == 200, "node1 /healthz healthy again", Delivery);

        await AssertRemovedAsync(benSocket, room, "ben", "kicked", amy, other);
    }
}
