using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

public sealed class AccountsTests
{
    private static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");


    [Fact]
    public async Task Register_stores_the_name_in_lower_case_and_refuses_it_twice_in_any_case()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Http();

        var r = await http.PostAsJsonAsync("/api/register", new { username = "Alice.B-c_1", password = "long enough" });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal("alice.b-c_1", (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("username").GetString());

        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/register", new { username = "ALICE.B-C_1", password = "long enough" }), HttpStatusCode.Conflict);

        var login = await http.PostAsJsonAsync("/api/login", new { username = "ALICE.b-c_1", password = "long enough" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_name_with_a_letter_that_lower_cases_to_ascii_is_not_another_spelling_of_an_account()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Http();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/register", new { username = "kate", password = "long enough" })).StatusCode);

        // U+212A KELVIN SIGN lower-cases to an ASCII "k".
        var kelvin = await http.PostAsJsonAsync("/api/login", new { username = "\u212Aate", password = "long enough" });
        Assert.Equal(HttpStatusCode.Unauthorized, kelvin.StatusCode);
    }

    [Theory]
    [InlineData("""{"username":"ab","password":"long enough"}""")]
    [InlineData("""{"username":"has space","password":"long enough"}""")]
    [InlineData("""{"username":"émile","password":"long enough"}""")]
    [InlineData("""{"username":"\u212Aate","password":"long enough"}""")]
    [InlineData("""{"username":"abcdefghijabcdefghijabcdefghijabc","password":"long enough"}""")]
    [InlineData("""{"username":"valid","password":"short"}""")]
    [InlineData("""{"username":"valid"}""")]
    [InlineData("""{"username":5,"password":"long enough"}""")]
    [InlineData("""{"username":"valid","password":["x"]}""")]
    [InlineData("""{"username":"valid","password":"long enough\""")]
    [InlineData("""["valid","long enough"]""")]
    [InlineData("")]
    public async Task Register_refuses_bad_input_with_a_problem(string body)
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Http();
        await Problem.AssertAsync(await http.PostAsync("/api/register", Json(body)), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/login", new { username = "valid", password = "long enough" }), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_sets_an_http_only_cookie_that_authenticates_like_the_token()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        var handler = new HttpClientHandler { UseCookies = true };
        using var http = new HttpClient(handler) { BaseAddress = server.BaseUri };

        var login = await http.PostAsJsonAsync("/api/login", new { username = user.Username, password = "correct horse battery" });
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("natter_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);

        var me = await http.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal(user.Username, me.GetProperty("username").GetString());
    }

    [Fact]
    public async Task Calls_without_a_valid_token_get_401_problems()
    {
        await using var server = await TestServer.StartAsync();
        using var anonymous = server.Http();
        using var forged = server.Http("not-a-real-token");
        foreach (var http in new[] { anonymous, forged })
        {
            await Problem.AssertAsync(await http.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
            await Problem.AssertAsync(await http.GetAsync("/api/rooms"), HttpStatusCode.Unauthorized);
            await Problem.AssertAsync(await http.PostAsync("/api/logout", null), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Wrong_passwords_are_401_then_429_with_retry_after_and_the_right_one_waits_too()
    {
        await using var server = await TestServer.StartAsync("Natter:Auth:LoginFailuresPerUser=3");
        var user = await server.UserAsync();
        using var http = server.Http();
        for (var i = 0; i < 3; i++)
        {
            await Problem.AssertAsync(await http.PostAsJsonAsync("/api/login", new { username = user.Username, password = "wrong password" }), HttpStatusCode.Unauthorized);
        }

        var throttled = await http.PostAsJsonAsync("/api/login", new { username = user.Username, password = "correct horse battery" });
        await Problem.AssertAsync(throttled, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(throttled.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);

        var other = await server.UserAsync();
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/api/login", new { username = other.Username, password = "correct horse battery" })).StatusCode);
    }

    [Fact]
    public async Task Logout_revokes_the_token_and_closes_that_sessions_sockets_with_4001()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        var socket = await user.ConnectAsync();
        await socket.NextAsync("welcome");

        using var http = user.Http();
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync("/api/logout", null)).StatusCode);
        Assert.Equal(4001, (int?)await socket.WaitClosedAsync());
        await Problem.AssertAsync(await http.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Users_online_lists_exactly_the_users_with_an_open_socket()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        using var http = a.Http();

        var socket = await b.ConnectAsync();
        await socket.NextAsync("welcome");
        var online = await http.GetFromJsonAsync<JsonElement[]>("/api/users?online=true");
        Assert.Equal([b.Username], online!.Select(u => u.GetProperty("username").GetString()));
        Assert.True(online![0].GetProperty("online").GetBoolean());

        var all = await http.GetFromJsonAsync<JsonElement[]>("/api/users");
        Assert.Contains(all!, u => u.GetProperty("username").GetString() == a.Username && !u.GetProperty("online").GetBoolean());

        await socket.DisposeAsync();
        await Wait.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement[]>("/api/users?online=true"))!.Length == 0, "no user listed online");
    }

    [Fact]
    public async Task Passwords_are_stored_as_argon2id_hashes_and_tokens_only_as_hashes()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={server.DbPath}");
        await db.OpenAsync();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT password_hash FROM users WHERE username = $u";
        cmd.Parameters.AddWithValue("$u", user.Username);
        var hash = (string)(await cmd.ExecuteScalarAsync())!;
        Assert.StartsWith("$argon2id$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", hash, StringComparison.Ordinal);

        cmd.CommandText = "SELECT COUNT(*) FROM sessions WHERE token_hash = $t";
        cmd.Parameters.AddWithValue("$t", Encoding.UTF8.GetBytes(user.Token));
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }
}
