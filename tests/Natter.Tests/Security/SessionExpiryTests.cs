using System.Net;
using System.Net.WebSockets;
using Microsoft.Data.Sqlite;
using Natter.Server.Entry;
using Natter.Tests.Infrastructure;
using Natter.Tests.Unit;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 7: a session that expires takes its sockets with it (4001), as a logout does.</summary>
public sealed class SessionExpiryTests
{
    [Fact]
    public async Task When_a_session_expires_its_sockets_close_with_4001_and_other_sessions_stay()
    {
        await using var server = await TestServer.StartAsync("Natter:Auth:SessionSweepInterval=00:00:01");
        var user = await server.UserAsync();
        var other = await server.UserAsync();
        var socket = await user.ConnectAsync();
        var otherSocket = await other.ConnectAsync();
        await socket.NextAsync("welcome");
        await otherSocket.NextAsync("welcome");

        // The session's time is up (as if its 30 days had passed).
        await using (var db = new SqliteConnection($"Data Source={server.DbPath};Pooling=False"))
        {
            await db.OpenAsync();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "UPDATE sessions SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = $u)";
            cmd.Parameters.AddWithValue("$u", user.Username);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }

        Assert.Equal(4001, (int?)await socket.WaitClosedAsync());
        using var http = user.Http();
        await Problem.AssertAsync(await http.GetAsync("/api/me"), HttpStatusCode.Unauthorized);

        await otherSocket.SendAsync(new { type = "ping", @ref = "alive" });
        Assert.Equal("alive", (await otherSocket.NextAsync("pong")).GetProperty("ref").GetString());
    }

    [Fact]
    public async Task A_socket_closes_itself_with_4001_when_its_session_runs_out()
    {
        using var expiry = new SessionExpiry(TimeProvider.System);
        await using var socket = new ConnectionUnderTest(new FakeRoomLog());
        expiry.Watch(socket.Connection, DateTimeOffset.UtcNow.AddMilliseconds(300));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (true)
            {
                await socket.NextAsync();
            }
        });
        Assert.Equal((WebSocketCloseStatus)4001, socket.CloseStatus);
    }
}
