using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Natter.TestSupport;

/// <summary>
/// A registered, logged-in user and the HTTP calls tests make as that user. Sessions live in the store, so in a
/// cluster the same user works on every node: <see cref="At"/> gives the user on another one.
/// </summary>
public sealed class TestUser
{
    public const string DefaultPassword = "correct horse battery";

    private TestUser(Uri baseUri, string username, string token, TestServer? server)
    {
        BaseUri = baseUri;
        Username = username;
        Token = token;
        Server = server;
    }

    public Uri BaseUri { get; }
    public string Username { get; }
    public string Token { get; }

    /// <summary>The in-process server the user talks to, when there is one: its sockets close with it.</summary>
    private TestServer? Server { get; }

    /// <summary>Registers (201 expected) and logs in.</summary>
    public static async Task<TestUser> RegisterAsync(Uri baseUri, string username, string password = DefaultPassword)
    {
        using var http = NewHttp(baseUri, null);
        var reg = await http.PostAsJsonAsync("/api/register", new { username, password });
        Assert.True(reg.StatusCode == HttpStatusCode.Created, $"register {username}: HTTP {(int)reg.StatusCode}");
        return await LoginAsync(baseUri, username, password);
    }

    public static async Task<TestUser> LoginAsync(Uri baseUri, string username, string password = DefaultPassword)
    {
        using var http = NewHttp(baseUri, null);
        var login = await http.PostAsJsonAsync("/api/login", new { username, password });
        login.EnsureSuccessStatusCode();
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return new TestUser(baseUri, username, body.GetProperty("token").GetString()!, null);
    }

    /// <summary>The same user (same token) on another server of the cluster.</summary>
    public TestUser At(IServerUnderTest server) => new(server.BaseUri, Username, Token, server as TestServer);

    public HttpClient Http() => NewHttp(BaseUri, Token);

    /// <summary>A socket with this user's token (wait for "welcome" before relying on it).</summary>
    public Task<TestSocket> ConnectAsync(Action<ClientWebSocketOptions>? options = null) =>
        Server is { } server
            ? server.ConnectAsync(this, options)
            : TestSocket.ConnectAsync(new Uri(BaseUri, "/ws"), Token, options, name: Username);

    /// <summary>A socket with this user's token, once its "welcome" has come (closed again when that fails).</summary>
    public async Task<TestSocket> ConnectWelcomedAsync()
    {
        var socket = await ConnectAsync();
        try
        {
            await socket.WelcomeAsync();
            return socket;
        }
        catch
        {
            await socket.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates a group room; returns its id.</summary>
    public async Task<string> CreateRoomAsync(string name = "room")
    {
        using var http = Http();
        var r = await http.PostAsJsonAsync("/api/rooms", new { name });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public async Task JoinAsync(string roomId)
    {
        using var http = Http();
        var r = await http.PostAsync($"/api/rooms/{roomId}/join", null);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    /// <summary>Posts a message over HTTP, waiting out the per-user send limit (429) when it is hit; returns its seq.</summary>
    public async Task<long> PostMessageAsync(string roomId, string text)
    {
        using var http = Http();
        var clientId = Guid.NewGuid().ToString("N");
        for (var attempt = 0; ; attempt++)
        {
            using var res = await http.PostAsJsonAsync($"/api/rooms/{Uri.EscapeDataString(roomId)}/messages", new { text, client_id = clientId });
            if (res.StatusCode == HttpStatusCode.TooManyRequests && attempt < 50)
            {
                await Task.Delay(res.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
                continue;
            }

            Assert.True(res.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"POST message: HTTP {(int)res.StatusCode}");
            return (await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("seq").GetInt64();
        }
    }

    public async Task<JsonElement[]> HistoryAsync(string roomId, string query = "")
    {
        using var http = Http();
        var r = await http.GetAsync($"/api/rooms/{roomId}/messages{query}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await r.Content.ReadFromJsonAsync<JsonElement[]>() ?? [];
    }

    /// <summary>Every stored message of a room, oldest first, paging through history.</summary>
    public async Task<List<JsonElement>> AllMessagesAsync(string roomId)
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await HistoryAsync(roomId, $"?after={after}&limit=200");
            all.AddRange(page);
            if (page.Length < 200)
            {
                return all;
            }

            after = page[^1].GetProperty("seq").GetInt64();
        }
    }

    /// <summary>The usernames the server lists as online, in ordinal order.</summary>
    public async Task<string[]> OnlineAsync()
    {
        using var http = Http();
        var users = await http.GetFromJsonAsync<JsonElement[]>("/api/users?online=true") ?? [];
        return [.. users.Select(u => u.GetProperty("username").GetString()!).Order(StringComparer.Ordinal)];
    }

    internal static HttpClient NewHttp(Uri baseUri, string? token)
    {
        var client = new HttpClient { BaseAddress = baseUri, Timeout = Wait.Step };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }
}

/// <summary>What a test asks of any server, in this process or not.</summary>
public static class ServerUnderTestExtensions
{
    private static readonly HttpClient Http = new() { Timeout = Wait.Step };

    /// <summary>The /healthz status code, 0 when nothing answers.</summary>
    public static async Task<int> HealthAsync(this IServerUnderTest server)
    {
        try
        {
            using var res = await Http.GetAsync(new Uri(server.BaseUri, "/healthz"));
            return (int)res.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>/metrics with its bearer token (a cluster node's, unless another is given).</summary>
    public static async Task<string> MetricsAsync(this IServerUnderTest server, string token = ClusterConfig.MetricsToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUri, "/metrics"));
        request.Headers.Authorization = new("Bearer", token);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
