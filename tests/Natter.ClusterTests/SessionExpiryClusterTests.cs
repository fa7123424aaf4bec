using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MySqlConnector;

namespace Natter.ClusterTests;

/// <summary>Issue 9, item 7, across nodes: a session swept on one node closes its sockets on every node.</summary>
public sealed class SessionExpiryClusterTests
{
    [Fact]
    public async Task A_session_swept_on_one_node_closes_its_socket_on_another_with_4001()
    {
        var config = ClusterConfig.Create();
        try
        {
            // Node a sweeps every second; node b only once, at start, so it learns of the expiry from the bus alone.
            await using var a = await StartAsync(config, "a", "--Natter:Auth:SessionSweepInterval=00:00:01");
            await using var b = await StartAsync(config, "b", "--Natter:Auth:SessionSweepInterval=1.00:00:00");
            var username = "exp" + Guid.NewGuid().ToString("N")[..8];
            var token = await Api.RegisterAndLoginAsync(new Node(a), username);

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            await socket.ConnectAsync(new UriBuilder(b.Urls.First()) { Scheme = "ws", Path = "/ws" }.Uri, TestContext.Current.CancellationToken);

            await using (var db = new MySqlConnection(config.MySql))
            {
                await db.OpenAsync(TestContext.Current.CancellationToken);
                await using var cmd = new MySqlCommand("UPDATE sessions SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = @u)", db);
                cmd.Parameters.AddWithValue("@u", username);
                Assert.Equal(1, await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
            }

            var buffer = new byte[64 * 1024];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
            {
            }

            Assert.Equal(4001, (int?)socket.CloseStatus);
        }
        finally
        {
            await Services.DropDatabaseAsync(config.Database);
        }
    }

    private sealed record Node(WebApplication App) : INode
    {
        public string Name => "node";
        public Uri BaseUri => new(App.Urls.First());
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static async Task<WebApplication> StartAsync(ClusterConfig config, string name, params string[] extra)
    {
        var app = Natter.Server.NatterApp.Create([.. config.Args(name), .. extra], b =>
            b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5)));
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return app;
    }
}
