using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 4: responses tell the browser not to sniff, frame or leak, and API answers are never cached.</summary>
public sealed partial class SecurityHeadersTests
{
    [GeneratedRegex("""http-equiv="Content-Security-Policy" content="([^"]+)""")]
    private static partial Regex MetaPolicy();

    private static Dictionary<string, string> Directives(string policy) =>
        policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => d.Split(' ', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);

    [Fact]
    public async Task The_page_refuses_framing_and_sniffing_and_carries_its_policy_in_a_header()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Http();
        var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.False(string.IsNullOrEmpty(page.Headers.GetValues("Referrer-Policy").Single()));

        var header = Directives(page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("'none'", header["frame-ancestors"]);

        // Every rule of the page's own meta policy holds in the header too.
        var meta = MetaPolicy().Match(await page.Content.ReadAsStringAsync());
        Assert.True(meta.Success, "index.html has its CSP meta tag");
        foreach (var (name, value) in Directives(WebUtility.HtmlDecode(meta.Groups[1].Value)))
        {
            Assert.True(header.TryGetValue(name, out var inHeader), $"the header lacks {name}");
            Assert.Equal(value, inHeader);
        }

        foreach (var asset in new[] { "/app.js", "/app.css" })
        {
            var r = await http.GetAsync(asset);
            Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }

    [Fact]
    public async Task Api_answers_are_never_stored_by_caches()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using var anonymous = server.Http();
        var login = await anonymous.PostAsJsonAsync("/api/login", new { username = user.Username, password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.True(login.Headers.CacheControl?.NoStore, "the login answer carries the token: no-store");

        using var http = user.Http();
        foreach (var r in new[] { await http.GetAsync("/api/me"), await http.GetAsync("/api/rooms"), await anonymous.GetAsync("/api/me") })
        {
            Assert.True(r.Headers.CacheControl?.NoStore, $"{r.RequestMessage!.RequestUri}: no-store");
            Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }
}
