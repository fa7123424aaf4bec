using System.Net.WebSockets;
using MySqlConnector;

namespace Natter.ClusterTests;

/// <summary>Issue 9, item 7, across nodes: a session swept on one node closes its sockets on every node.</summary>
public sealed class SessionExpiryClusterTests : ClusterTest
{
    [Fact]
    public async Task A_session_swept_on_one_node_closes_its_socket_on_another_with_4001()
    {
        var config = ClusterConfig.Create();

        // Node a sweeps every second; node b only once, at start, so it learns of the expiry from the bus alone.
        var a = await Cluster.StartNodeAsync(ClusterScope.Node(config, "a", "Natter:Auth:SessionSweepInterval=00:00:01"));
        var b = await Cluster.StartNodeAsync(ClusterScope.Node(config, "b", "Natter:Auth:SessionSweepInterval=1.00:00:00"));
        var user = await a.UserAsync("exp");
        var socket = await Cluster.ConnectAsync(user, b);

        await using (var db = new MySqlConnection(config.MySql))
        {
            await db.OpenAsync(TestContext.Current.CancellationToken);
            await using var cmd = new MySqlCommand("UPDATE sessions SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = @u)", db);
            cmd.Parameters.AddWithValue("@u", user.Username);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal((WebSocketCloseStatus)4001, await socket.WaitClosedAsync());
    }
}
