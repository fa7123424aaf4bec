using System.Net;
using System.Net.Http.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>
/// Issue 9, item 6: failed logins cannot be used to lock people out. Client addresses come from forwarded headers
/// of configured proxies only, and a browser that logged in as a user before keeps logging in while that username
/// is throttled for everyone else (a device cookie).
/// </summary>
public sealed class LockoutTests
{
    private const string Password = "correct horse battery";

    private static HttpRequestMessage Login(string username, string password, string? forwardedFor = null, string? forwardedProto = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/login") { Content = JsonContent.Create(new { username, password }) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
        }

        return request;
    }

    [Fact]
    public async Task Behind_a_known_proxy_each_client_address_is_throttled_on_its_own_and_https_keeps_the_cookie_secure()
    {
        await using var server = await TestServer.StartAsync(
            "Natter:Network:KnownProxies:0=127.0.0.1", "Natter:Auth:LoginFailuresPerAddress=3");
        var user = await server.UserAsync();
        using var http = server.Http();
        for (var i = 0; i < 3; i++)
        {
            await Problem.AssertAsync(await http.SendAsync(Login($"nobody{i}", "wrong password", "203.0.113.7")), HttpStatusCode.Unauthorized);
        }

        await Problem.AssertAsync(await http.SendAsync(Login(user.Username, Password, "203.0.113.7")), HttpStatusCode.TooManyRequests);

        // Another client behind the same proxy is not the attacker.
        var other = await http.SendAsync(Login(user.Username, Password, "198.51.100.20", "https"));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.All(other.Headers.GetValues("Set-Cookie"), c => Assert.Contains("secure", c, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Forwarded_headers_from_an_unknown_proxy_are_ignored()
    {
        await using var server = await TestServer.StartAsync("Natter:Auth:LoginFailuresPerAddress=3");
        var user = await server.UserAsync();
        using var http = server.Http();
        for (var i = 0; i < 3; i++)
        {
            // A client cannot dodge the address limit by making up addresses.
            await Problem.AssertAsync(await http.SendAsync(Login($"nobody{i}", "wrong password", $"203.0.113.{i}")), HttpStatusCode.Unauthorized);
        }

        await Problem.AssertAsync(await http.SendAsync(Login(user.Username, Password, "198.51.100.20")), HttpStatusCode.TooManyRequests);
        var spoofed = await server.Http().SendAsync(Login("nobody", "wrong password", forwardedProto: "https"));
        Assert.False(spoofed.Headers.TryGetValues("Set-Cookie", out _));
    }

    [Fact]
    public async Task A_browser_that_logged_in_before_keeps_logging_in_while_the_username_is_throttled_for_others()
    {
        await using var server = await TestServer.StartAsync("Natter:Auth:LoginFailuresPerUser=3");
        var user = await server.UserAsync();
        using var known = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = server.BaseUri };
        Assert.Equal(HttpStatusCode.OK, (await known.SendAsync(Login(user.Username, Password))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await known.PostAsync("/api/logout", null)).StatusCode);

        // Someone else locks the username.
        using var attacker = server.Http();
        for (var i = 0; i < 3; i++)
        {
            await Problem.AssertAsync(await attacker.SendAsync(Login(user.Username, "wrong password")), HttpStatusCode.Unauthorized);
        }

        await Problem.AssertAsync(await attacker.SendAsync(Login(user.Username, Password)), HttpStatusCode.TooManyRequests);
        using var stranger = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = server.BaseUri };
        await Problem.AssertAsync(await stranger.SendAsync(Login(user.Username, Password)), HttpStatusCode.TooManyRequests);

        // The user's own browser still gets in.
        Assert.Equal(HttpStatusCode.OK, (await known.SendAsync(Login(user.Username, Password))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await known.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task A_device_cookie_guessing_passwords_is_throttled_on_its_own_and_only_for_its_user()
    {
        await using var server = await TestServer.StartAsync("Natter:Auth:LoginFailuresPerUser=3");
        var user = await server.UserAsync("a");
        var other = await server.UserAsync("b");
        using var device = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = server.BaseUri };
        Assert.Equal(HttpStatusCode.OK, (await device.SendAsync(Login(user.Username, Password))).StatusCode);

        // The cookie names one user: for anyone else it counts for nothing.
        for (var i = 0; i < 3; i++)
        {
            await Problem.AssertAsync(await device.SendAsync(Login(other.Username, "wrong password")), HttpStatusCode.Unauthorized);
        }

        using var anyone = server.Http();
        await Problem.AssertAsync(await anyone.SendAsync(Login(other.Username, Password)), HttpStatusCode.TooManyRequests);

        // Guessing through the cookie locks the cookie, not the user for everyone.
        for (var i = 0; i < 3; i++)
        {
            await Problem.AssertAsync(await device.SendAsync(Login(user.Username, "wrong password")), HttpStatusCode.Unauthorized);
        }

        await Problem.AssertAsync(await device.SendAsync(Login(user.Username, Password)), HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.OK, (await anyone.SendAsync(Login(user.Username, Password))).StatusCode);
    }
}
