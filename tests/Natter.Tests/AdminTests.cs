using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>Protocol v2 §5: server admins (Natter:Admins) find, disable and enable accounts.</summary>
public sealed class AdminTests
{
    private static async Task<(TestServer Server, TestUser Admin)> StartAsync()
    {
        var server = await TestServer.StartAsync("Natter:Admins:0=boss");
        return (server, await TestUser.RegisterAsync(server.BaseUri, "boss"));
    }

    [Fact]
    public async Task Only_admins_may_find_users_or_change_a_status()
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;
        var a = await server.UserAsync("a");
        using var http = a.Http();
        Assert.False((await http.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("admin").GetBoolean());
        await Problem.AssertAsync(await http.GetAsync("/api/admin/users?q=boss"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await http.PatchAsJsonAsync($"/api/users/{admin.Username}", new { status = "disabled" }), HttpStatusCode.Forbidden);
        using var adminHttp = admin.Http();
        Assert.True((await adminHttp.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("admin").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await adminHttp.GetAsync($"/api/me")).StatusCode);
    }

    [Fact]
    public async Task Disabling_closes_the_accounts_sockets_with_4003_revokes_its_sessions_and_refuses_its_logins_with_403_until_enabled()
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;
        var target = await server.UserAsync("t");
        var second = await TestUser.LoginAsync(server.BaseUri, target.Username);
        var bystander = await server.UserAsync("b");
        var s1 = await target.ConnectAsync();
        var s2 = await second.ConnectAsync();
        var s3 = await bystander.ConnectAsync();
        foreach (var s in new[] { s1, s2, s3 })
        {
            await s.WelcomeAsync();
        }

        using var adminHttp = admin.Http();
        var r = await adminHttp.PatchAsJsonAsync($"/api/users/{target.Username}", new { status = "disabled" });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("disabled", body.GetProperty("status").GetString());
        Assert.Equal(target.Username, body.GetProperty("username").GetString());

        Assert.Equal(4003, (int?)await s1.WaitClosedAsync());
        Assert.Equal(4003, (int?)await s2.WaitClosedAsync());
        await s3.RequestAsync(new { type = "ping" });
        using var targetHttp = target.Http();
        await Problem.AssertAsync(await targetHttp.GetAsync("/api/me"), HttpStatusCode.Unauthorized);

        using var anon = server.Http();
        await Problem.AssertAsync(await anon.PostAsJsonAsync("/api/login", new { username = target.Username, password = TestUser.DefaultPassword }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await anon.PostAsJsonAsync("/api/login", new { username = target.Username, password = "not the password" }), HttpStatusCode.Unauthorized);

        var found = await adminHttp.GetFromJsonAsync<JsonElement[]>($"/api/admin/users?q={target.Username}");
        Assert.Equal("disabled", Assert.Single(found!).GetProperty("status").GetString());

        var enabled = await adminHttp.PatchAsJsonAsync($"/api/users/{target.Username}", new { status = "active" });
        Assert.Equal("active", (await enabled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await TestUser.LoginAsync(server.BaseUri, target.Username);
        await s3.DisposeAsync();
    }

    [Fact]
    public async Task A_status_change_refuses_a_bad_status_an_unknown_user_and_disabling_yourself()
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;
        var a = await server.UserAsync("a");
        using var http = admin.Http();
        await Problem.AssertAsync(await http.PatchAsJsonAsync($"/api/users/{a.Username}", new { status = "banned" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PatchAsJsonAsync($"/api/users/{a.Username}", new { state = "disabled" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PatchAsJsonAsync("/api/users/nobody-here", new { status = "disabled" }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await http.PatchAsJsonAsync($"/api/users/{admin.Username}", new { status = "disabled" }), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Finding_users_matches_username_or_display_name_case_insensitively_and_includes_disabled_accounts()
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;
        var a = await TestUser.RegisterAsync(server.BaseUri, "carol_1");
        var b = await TestUser.RegisterAsync(server.BaseUri, "dave_2");
        using (var bHttp = b.Http())
        {
            (await bHttp.PatchAsJsonAsync("/api/me", new { display_name = "Carolina Reaper" })).EnsureSuccessStatusCode();
        }

        using var http = admin.Http();
        (await http.PatchAsJsonAsync($"/api/users/{a.Username}", new { status = "disabled" })).EnsureSuccessStatusCode();
        var found = await http.GetFromJsonAsync<JsonElement[]>("/api/admin/users?q=CAROL");
        Assert.Equal(["carol_1", "dave_2"], found!.Select(u => u.GetProperty("username").GetString()));
        Assert.Equal(["disabled", "active"], found!.Select(u => u.GetProperty("status").GetString()));
        Assert.Equal("Carolina Reaper", found![1].GetProperty("display_name").GetString());

        // LIKE's wildcards are plain characters here.
        Assert.Equal(["carol_1", "dave_2"], (await http.GetFromJsonAsync<JsonElement[]>("/api/admin/users?q=_"))!.Select(u => u.GetProperty("username").GetString()));
        Assert.Empty((await http.GetFromJsonAsync<JsonElement[]>("/api/admin/users?q=%25"))!);
        var all = await http.GetFromJsonAsync<JsonElement[]>("/api/admin/users");
        Assert.Equal(3, all!.Length);
        Assert.True(all.Single(u => u.GetProperty("username").GetString() == "boss").GetProperty("admin").GetBoolean());
    }
}
