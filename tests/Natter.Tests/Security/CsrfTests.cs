using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 2: a page on another origin of the same site cannot act with the session cookie.</summary>
public sealed class CsrfTests
{
    private const string Password = "correct horse battery";

    /// <summary>A browser-like client: keeps the session cookie and sends no bearer token.</summary>
    private static async Task<HttpClient> CookieClientAsync(TestServer server, TestUser user)
    {
        var http = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = server.BaseUri };
        var login = await http.PostAsJsonAsync("/api/login", new { username = user.Username, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return http;
    }

    private static HttpRequestMessage Post(string path, HttpContent? content, string? origin = null, string? fetchSite = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        if (fetchSite is not null)
        {
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", fetchSite);
        }

        return request;
    }

    private static string Own(TestServer server) => server.BaseUri.GetLeftPart(UriPartial.Authority);

    private static string SameSiteOtherPort(TestServer server) => $"http://localhost:{(server.BaseUri.Port % 60000) + 1}";

    [Fact]
    public async Task A_cookie_request_from_another_origin_of_the_same_site_cannot_post_join_or_log_out()
    {
        await using var server = await TestServer.StartAsync();
        var owner = await server.UserAsync("o");
        var victim = await server.UserAsync("v");
        var room = await owner.CreateRoomAsync();
        using var browser = await CookieClientAsync(server, victim);
        var evil = SameSiteOtherPort(server);

        var post = await browser.SendAsync(Post($"/api/rooms/{room}/messages", new StringContent("""{"text":"pwned"}""", Encoding.UTF8, "text/plain"), evil));
        await Problem.AssertAsync(post, HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await browser.SendAsync(Post($"/api/rooms/{room}/join", null, evil)), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await browser.SendAsync(Post("/api/logout", null, evil)), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await browser.SendAsync(Post("/api/rooms", JsonContent.Create(new { name = "spam" }), evil)), HttpStatusCode.Forbidden);

        // Without Origin, Sec-Fetch-Site says where the request came from.
        await Problem.AssertAsync(await browser.SendAsync(Post($"/api/rooms/{room}/join", null, fetchSite: "same-site")), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await browser.SendAsync(Post($"/api/rooms/{room}/join", null, fetchSite: "cross-site")), HttpStatusCode.Forbidden);

        // Nothing happened: the victim is still logged in, in no room, and nothing was posted.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/me")).StatusCode);
        Assert.Empty(await browser.GetFromJsonAsync<JsonElement[]>("/api/rooms") ?? []);
        Assert.Empty(await owner.AllMessagesAsync(room));
    }

    [Fact]
    public async Task The_servers_own_origin_and_allowed_origins_work_with_the_cookie()
    {
        await using var server = await TestServer.StartAsync("Natter:WebSocket:AllowedOrigins:0=http://chat.example");
        var owner = await server.UserAsync("o");
        var user = await server.UserAsync("u");
        var room = await owner.CreateRoomAsync();
        using var browser = await CookieClientAsync(server, user);

        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(Post($"/api/rooms/{room}/join", null, Own(server)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(Post($"/api/rooms/{room}/join", null, fetchSite: "same-origin"))).StatusCode);
        var sent = await browser.SendAsync(Post($"/api/rooms/{room}/messages", JsonContent.Create(new { text = "hi", client_id = "1" }), "http://chat.example"));
        Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await browser.SendAsync(Post("/api/logout", null, Own(server)))).StatusCode);
    }

    [Fact]
    public async Task A_json_body_needs_the_json_content_type()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        var room = await user.CreateRoomAsync();
        using var browser = await CookieClientAsync(server, user);
        using var bearer = user.Http();

        foreach (var http in new[] { browser, bearer })
        {
            var plain = await http.SendAsync(Post($"/api/rooms/{room}/messages", new StringContent("""{"text":"x"}""", Encoding.UTF8, "text/plain"), Own(server)));
            await Problem.AssertAsync(plain, HttpStatusCode.UnsupportedMediaType);
            var form = await http.SendAsync(Post("/api/rooms", new FormUrlEncodedContent([new("name", "x")]), Own(server)));
            await Problem.AssertAsync(form, HttpStatusCode.UnsupportedMediaType);
        }

        using var anonymous = server.Http();
        var register = await anonymous.PostAsync("/api/register", new StringContent("""{"username":"plain","password":"long enough"}""", Encoding.UTF8, "text/plain"));
        await Problem.AssertAsync(register, HttpStatusCode.UnsupportedMediaType);
        Assert.Empty(await user.AllMessagesAsync(room));
    }

    [Fact]
    public async Task Bearer_clients_are_not_judged_by_origin()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        var room = await user.CreateRoomAsync();
        using var http = user.Http();
        var sent = await http.SendAsync(Post($"/api/rooms/{room}/messages", JsonContent.Create(new { text = "from a bot", client_id = "b" }), "http://elsewhere.example"));
        Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(Post("/api/logout", null, "http://elsewhere.example"))).StatusCode);
    }
}
