using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>Protocol v2 §5: profiles, password change, sessions, blocks (admin rows: <see cref="AdminTests"/>).</summary>
public sealed class AccountSettingsTests
{
    private static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> MeAsync(HttpClient http) => await http.GetFromJsonAsync<JsonElement>("/api/me");

    [Theory]
    [InlineData("PATCH", "/api/me")]
    [InlineData("POST", "/api/me/password")]
    [InlineData("GET", "/api/me/sessions")]
    [InlineData("DELETE", "/api/me/sessions/1")]
    [InlineData("GET", "/api/me/blocks")]
    [InlineData("PUT", "/api/me/blocks/someone")]
    [InlineData("DELETE", "/api/me/blocks/someone")]
    [InlineData("PATCH", "/api/users/someone")]
    [InlineData("GET", "/api/admin/users")]
    public async Task Every_account_call_needs_a_session(string method, string path)
    {
        await using var server = await TestServer.StartAsync();
        using var anonymous = server.Http();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method is "GET" or "DELETE" ? null : Json("{}") };
        await Problem.AssertAsync(await anonymous.SendAsync(request), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_display_name_defaults_to_the_username_and_a_change_shows_in_me_and_users_in_nfc()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        using var http = a.Http();

        var me = await MeAsync(http);
        Assert.Equal(a.Username, me.GetProperty("display_name").GetString());
        Assert.Equal(JsonValueKind.Null, me.GetProperty("avatar_url").ValueKind);
        Assert.False(me.GetProperty("admin").GetBoolean());

        // "A" + combining ring (NFD) becomes "Å" (NFC); surrounding spaces go.
        var r = await http.PatchAsync("/api/me", Json("{\"display_name\":\"  A\\u030Asa Lind \"}"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var changed = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("\u00C5sa Lind", changed.GetProperty("display_name").GetString());
        Assert.Equal(a.Username, changed.GetProperty("username").GetString());

        using var other = b.Http();
        var users = await other.GetFromJsonAsync<JsonElement[]>("/api/users");
        var listed = Assert.Single(users!, u => u.GetProperty("username").GetString() == a.Username);
        Assert.Equal("\u00C5sa Lind", listed.GetProperty("display_name").GetString());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("avatar_url").ValueKind);
        Assert.Equal(b.Username, users!.Single(u => u.GetProperty("username").GetString() == b.Username).GetProperty("display_name").GetString());

        // An empty body changes nothing and answers with the user object.
        var same = await (await http.PatchAsync("/api/me", Json("{}"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("\u00C5sa Lind", same.GetProperty("display_name").GetString());
    }

    [Theory]
    [InlineData("{\"display_name\":\"\"}")]
    [InlineData("{\"display_name\":\"   \"}")]
    [InlineData("{\"display_name\":\"tab\\there\"}")]
    [InlineData("{\"display_name\":\"bidi\\u202Eevil\"}")]
    [InlineData("{\"display_name\":5}")]
    [InlineData("{\"avatar\":5}")]
    [InlineData("[\"display_name\"]")]
    public async Task A_bad_profile_change_is_400_and_changes_nothing(string body)
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        using var http = a.Http();
        await Problem.AssertAsync(await http.PatchAsync("/api/me", Json(body)), HttpStatusCode.BadRequest);
        Assert.Equal(a.Username, (await MeAsync(http)).GetProperty("display_name").GetString());
    }

    [Fact]
    public async Task A_display_name_has_at_most_64_code_points_counting_emoji_as_one()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        using var http = a.Http();
        var sixtyFour = string.Concat(Enumerable.Repeat("\U0001F600", 64));
        Assert.Equal(HttpStatusCode.OK, (await http.PatchAsJsonAsync("/api/me", new { display_name = sixtyFour })).StatusCode);
        await Problem.AssertAsync(await http.PatchAsJsonAsync("/api/me", new { display_name = sixtyFour + "x" }), HttpStatusCode.BadRequest);
        Assert.Equal(sixtyFour, (await MeAsync(http)).GetProperty("display_name").GetString());
    }

    [Fact]
    public async Task An_avatar_that_is_not_an_uploaded_file_is_404_and_null_clears_it()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        using var http = a.Http();
        await Problem.AssertAsync(await http.PatchAsJsonAsync("/api/me", new { avatar = "no-such-file" }), HttpStatusCode.NotFound);
        var cleared = await (await http.PatchAsync("/api/me", Json("{\"avatar\":null}"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("avatar_url").ValueKind);
    }

    [Fact]
    public async Task A_password_change_revokes_every_other_session_and_closes_their_sockets_with_4001()
    {
        await using var server = await TestServer.StartAsync();
        var here = await server.UserAsync("a");
        var there = await TestUser.LoginAsync(server.BaseUri, here.Username);
        var otherUser = await server.UserAsync("b");
        var hereSocket = await here.ConnectAsync();
        var thereSocket = await there.ConnectAsync();
        var otherSocket = await otherUser.ConnectAsync();
        foreach (var s in new[] { hereSocket, thereSocket, otherSocket })
        {
            await s.WelcomeAsync();
        }

        using var http = here.Http();
        var r = await http.PostAsJsonAsync("/api/me/password", new { current = TestUser.DefaultPassword, @new = "a new password 2" });
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);

        Assert.Equal(4001, (int?)await thereSocket.WaitClosedAsync());
        using var thereHttp = there.Http();
        await Problem.AssertAsync(await thereHttp.GetAsync("/api/me"), HttpStatusCode.Unauthorized);

        // The session that changed it goes on, and so does everyone else.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/me")).StatusCode);
        await hereSocket.RequestAsync(new { type = "ping" });
        await otherSocket.RequestAsync(new { type = "ping" });

        using var anon = server.Http();
        await Problem.AssertAsync(await anon.PostAsJsonAsync("/api/login", new { username = here.Username, password = TestUser.DefaultPassword }), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await anon.PostAsJsonAsync("/api/login", new { username = here.Username, password = "a new password 2" })).StatusCode);
        await hereSocket.DisposeAsync();
        await otherSocket.DisposeAsync();
    }

    [Fact]
    public async Task A_wrong_current_password_is_403_and_a_bad_new_one_400_and_neither_changes_anything()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var other = await TestUser.LoginAsync(server.BaseUri, a.Username);
        using var http = a.Http();
        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/me/password", new { current = "not my password", @new = "a new password 2" }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/me/password", new { current = TestUser.DefaultPassword, @new = "short" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/me/password", new { current = TestUser.DefaultPassword }), HttpStatusCode.BadRequest);

        using var otherHttp = other.Http();
        Assert.Equal(HttpStatusCode.OK, (await otherHttp.GetAsync("/api/me")).StatusCode);
        await TestUser.LoginAsync(server.BaseUri, a.Username);
    }

    [Fact]
    public async Task Wrong_current_passwords_are_throttled_like_logins()
    {
        await using var server = await TestServer.StartAsync("Natter:Auth:LoginFailuresPerUser=2");
        var a = await server.UserAsync("a");
        using var http = a.Http();
        for (var i = 0; i < 2; i++)
        {
            await Problem.AssertAsync(await http.PostAsJsonAsync("/api/me/password", new { current = "guess " + i, @new = "a new password 2" }), HttpStatusCode.Forbidden);
        }

        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/me/password", new { current = TestUser.DefaultPassword, @new = "a new password 2" }),
            HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task The_session_list_shows_each_session_with_its_client_and_marks_the_current_one_without_tokens()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        using (var phone = server.Http())
        {
            phone.DefaultRequestHeaders.UserAgent.ParseAdd("NatterPhone/1.0");
            (await phone.PostAsJsonAsync("/api/login", new { username = a.Username, password = TestUser.DefaultPassword })).EnsureSuccessStatusCode();
        }

        using var http = a.Http();
        var raw = await http.GetStringAsync("/api/me/sessions");
        Assert.DoesNotContain(a.Token, raw, StringComparison.Ordinal);
        var sessions = JsonSerializer.Deserialize<JsonElement[]>(raw)!;
        Assert.Equal(2, sessions.Length);
        var current = Assert.Single(sessions, s => s.GetProperty("current").GetBoolean());
        var phoneSession = Assert.Single(sessions, s => !s.GetProperty("current").GetBoolean());
        Assert.Equal("NatterPhone/1.0", phoneSession.GetProperty("user_agent").GetString());
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var s in sessions)
        {
            Assert.InRange(s.GetProperty("created").GetInt64(), now - 120_000, now + 1000);
            Assert.True(s.GetProperty("last_seen").GetInt64() >= s.GetProperty("created").GetInt64());
            Assert.NotEqual(a.Token, s.GetProperty("id").GetString());
        }

        Assert.NotEqual(current.GetProperty("id").GetString(), phoneSession.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Deleting_a_session_revokes_it_and_closes_its_sockets_with_4001_and_others_sessions_are_404()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var laptop = await TestUser.LoginAsync(server.BaseUri, a.Username);
        var laptopSocket = await laptop.ConnectAsync();
        var hereSocket = await a.ConnectAsync();
        await laptopSocket.WelcomeAsync();
        await hereSocket.WelcomeAsync();

        using var http = a.Http();
        var laptopId = (await http.GetFromJsonAsync<JsonElement[]>("/api/me/sessions"))!
            .Single(s => !s.GetProperty("current").GetBoolean()).GetProperty("id").GetString();

        // Another user cannot see or end it.
        using var bHttp = b.Http();
        await Problem.AssertAsync(await bHttp.DeleteAsync($"/api/me/sessions/{laptopId}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await http.DeleteAsync("/api/me/sessions/999999"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await http.DeleteAsync("/api/me/sessions/not-a-number"), HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/me/sessions/{laptopId}")).StatusCode);
        Assert.Equal(4001, (int?)await laptopSocket.WaitClosedAsync());
        using var laptopHttp = laptop.Http();
        await Problem.AssertAsync(await laptopHttp.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await hereSocket.RequestAsync(new { type = "ping" });
        Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("/api/me/sessions"))!);
        await hereSocket.DisposeAsync();
    }

    [Fact]
    public async Task A_blocked_user_cannot_send_to_the_direct_room_by_socket_or_http_but_group_rooms_and_the_blocker_are_unaffected()
    {
        await using var server = await TestServer.StartAsync();
        var blocker = await server.UserAsync("a");
        var pest = await server.UserAsync("b");
        var blockerSocket = await blocker.ConnectAsync();
        var pestSocket = await pest.ConnectAsync();
        await blockerSocket.WelcomeAsync();
        await pestSocket.WelcomeAsync();
        var (dm, _) = await pestSocket.SendMessageAsync(null, "hi", "c1", to: blocker.Username);
        var group = await blocker.CreateRoomAsync("open");
        await pest.JoinAsync(group);

        using var http = blocker.Http();
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync($"/api/me/blocks/{pest.Username}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync($"/api/me/blocks/{pest.Username.ToUpperInvariant()}", null)).StatusCode);
        Assert.Equal([pest.Username], (await http.GetFromJsonAsync<string[]>("/api/me/blocks"))!);

        var byRoom = await Assert.ThrowsAsync<InvalidOperationException>(() => pestSocket.SendMessageAsync(dm, "still here", "c2"));
        Assert.Contains("\"forbidden\"", byRoom.Message, StringComparison.Ordinal);
        var byName = await Assert.ThrowsAsync<InvalidOperationException>(() => pestSocket.SendMessageAsync(null, "hello?", "c3", to: blocker.Username));
        Assert.Contains("\"forbidden\"", byName.Message, StringComparison.Ordinal);
        using var pestHttp = pest.Http();
        await Problem.AssertAsync(await pestHttp.PostAsJsonAsync($"/api/rooms/{dm}/messages", new { text = "over http", client_id = "c4" }), HttpStatusCode.Forbidden);

        await pestSocket.SendMessageAsync(group, "in the group", "c5");
        await blockerSocket.SendMessageAsync(dm, "the blocker may still write", "c6");
        Assert.DoesNotContain(await blocker.HistoryAsync(dm), m => m.GetProperty("from").GetString() == pest.Username && m.GetProperty("text").GetString() != "hi");

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/me/blocks/{pest.Username}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/me/blocks/{pest.Username}")).StatusCode);
        Assert.Empty((await http.GetFromJsonAsync<string[]>("/api/me/blocks"))!);
        await pestSocket.SendMessageAsync(dm, "unblocked", "c7");
        await blockerSocket.DisposeAsync();
        await pestSocket.DisposeAsync();
    }

    [Fact]
    public async Task Blocking_yourself_is_400_an_unknown_user_404_and_past_the_limit_409()
    {
        await using var server = await TestServer.StartAsync("Natter:Auth:MaxBlocks=1");
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var c = await server.UserAsync("c");
        using var http = a.Http();
        await Problem.AssertAsync(await http.PutAsync($"/api/me/blocks/{a.Username}", null), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PutAsync("/api/me/blocks/nobody-here", null), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await http.DeleteAsync("/api/me/blocks/nobody-here"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync($"/api/me/blocks/{b.Username}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync($"/api/me/blocks/{b.Username}", null)).StatusCode);
        await Problem.AssertAsync(await http.PutAsync($"/api/me/blocks/{c.Username}", null), HttpStatusCode.Conflict);
        Assert.Equal([b.Username], (await http.GetFromJsonAsync<string[]>("/api/me/blocks"))!);
    }
}
