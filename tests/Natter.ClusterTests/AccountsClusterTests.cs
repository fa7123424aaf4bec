using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;

namespace Natter.ClusterTests;

/// <summary>Protocol v2 §5 across nodes: a disabled account and a password change reach sockets on every node.</summary>
public sealed class AccountsClusterTests : ClusterTest
{
    [Fact]
    public async Task Disabling_an_account_on_one_node_closes_its_sockets_on_every_node_with_4003_and_its_login_gets_403()
    {
        var config = ClusterConfig.Create();
        var a = await Cluster.StartNodeAsync(ClusterScope.Node(config, "a", "Natter:Admins:0=boss"));
        var b = await Cluster.StartNodeAsync(ClusterScope.Node(config, "b", "Natter:Admins:0=boss"));
        var admin = await TestUser.RegisterAsync(a.BaseUri, "boss");
        var target = await a.UserAsync("dis");
        var bystander = await a.UserAsync("by");
        var onA = await Cluster.ConnectAsync(target, a);
        var onB = await Cluster.ConnectAsync(target, b);
        var other = await Cluster.ConnectAsync(bystander, b);

        using (var http = admin.Http())
        {
            var r = await http.PatchAsJsonAsync($"/api/users/{target.Username}", new { status = "disabled" }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        Assert.Equal((WebSocketCloseStatus)4003, await onA.WaitClosedAsync());
        Assert.Equal((WebSocketCloseStatus)4003, await onB.WaitClosedAsync());
        await other.RequestAsync(new { type = "ping" });

        foreach (var node in new[] { a, b })
        {
            using var anon = node.Http();
            var login = await anon.PostAsJsonAsync("/api/login", new { username = target.Username, password = TestUser.DefaultPassword },
                TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        }
    }

    [Fact]
    public async Task A_password_change_on_one_node_closes_the_other_sessions_sockets_on_another_node_with_4001()
    {
        var config = ClusterConfig.Create();
        var a = await Cluster.StartNodeAsync(ClusterScope.Node(config, "a"));
        var b = await Cluster.StartNodeAsync(ClusterScope.Node(config, "b"));
        var here = await a.UserAsync("pw");
        var there = await TestUser.LoginAsync(b.BaseUri, here.Username);
        var hereSocket = await Cluster.ConnectAsync(here, a);
        var thereSocket = await Cluster.ConnectAsync(there, b);

        using (var http = here.Http())
        {
            var r = await http.PostAsJsonAsync("/api/me/password", new { current = TestUser.DefaultPassword, @new = "another password 3" },
                TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Equal((WebSocketCloseStatus)4001, await thereSocket.WaitClosedAsync());
        await hereSocket.RequestAsync(new { type = "ping" });
    }
}
