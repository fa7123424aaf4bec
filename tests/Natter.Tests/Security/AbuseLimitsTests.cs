using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 5: room creation, registration, sockets and password hashing have limits.</summary>
public sealed class AbuseLimitsTests
{
    private static int RetryAfter(HttpResponseMessage r) =>
        int.Parse(r.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Room_creation_over_the_limit_gets_429_and_other_users_can_still_create()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:RoomCreationsPerHour=3");
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        using var http = a.Http();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/rooms", new { name = $"r{i}" })).StatusCode);
        }

        var refused = await http.PostAsJsonAsync("/api/rooms", new { name = "one too many" });
        await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.True(RetryAfter(refused) > 0);
        await b.CreateRoomAsync("b's room");

        using var list = a.Http();
        Assert.Equal(4, (await list.GetFromJsonAsync<System.Text.Json.JsonElement[]>("/api/rooms/public"))!.Length);
    }

    [Fact]
    public async Task Registrations_from_one_address_over_the_limit_get_429()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:RegistrationsPerAddressPerHour=3");
        using var http = server.Http();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/register", new { username = $"reg{i}", password = "long enough" })).StatusCode);
        }

        var refused = await http.PostAsJsonAsync("/api/register", new { username = "reg3", password = "long enough" });
        await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.True(RetryAfter(refused) > 0);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/api/login", new { username = "reg0", password = "long enough" })).StatusCode);
    }

    [Fact]
    public async Task Sockets_over_the_per_user_limit_are_refused_with_429_until_one_closes()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SocketsPerUser=2");
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var wsUri = new Uri(server.BaseUri, "/ws");
        var first = await a.ConnectAsync();
        var second = await a.ConnectAsync();
        await first.NextAsync("welcome");
        await second.NextAsync("welcome");

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(wsUri, a.Token));
        Assert.Contains("429", refused.Message, StringComparison.Ordinal);
        await (await b.ConnectAsync()).NextAsync("welcome");

        await first.DisposeAsync();
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await using var again = await TestSocket.ConnectAsync(wsUri, a.Token);
                await again.NextAsync("welcome");
                return true;
            }
            catch (WebSocketException)
            {
                return false;
            }
        }, "a socket opens again once one closed");
    }

    [Fact]
    public async Task Sockets_over_the_per_address_limit_are_refused_with_429()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SocketsPerAddress=3");
        var users = new[] { await server.UserAsync("a"), await server.UserAsync("b"), await server.UserAsync("c"), await server.UserAsync("d") };
        for (var i = 0; i < 3; i++)
        {
            await (await users[i].ConnectAsync()).NextAsync("welcome");
        }

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(new Uri(server.BaseUri, "/ws"), users[3].Token));
        Assert.Contains("429", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_hashing_is_bounded_so_a_registration_flood_gets_503_and_health_still_answers()
    {
        // Slow hashes (about a second each here), one at a time, two more may wait.
        await using var server = await TestServer.StartAsync(
            "Natter:Auth:Argon2Iterations=40", "Natter:Auth:Argon2MemoryKiB=32768",
            "Natter:Auth:PasswordHashConcurrency=1", "Natter:Auth:PasswordHashQueue=2",
            "Natter:Limits:RegistrationsPerAddressPerHour=1000");
        using var http = server.Http();
        var flood = Enumerable.Range(0, 12)
            .Select(i => http.PostAsJsonAsync("/api/register", new { username = $"flood{i}", password = "long enough" }))
            .ToArray();

        // While the flood is being hashed, health answers.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        var answers = await Task.WhenAll(flood);
        var busy = answers.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToArray();
        Assert.NotEmpty(busy);
        Assert.All(answers, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.ServiceUnavailable }));
        foreach (var r in busy)
        {
            await Problem.AssertAsync(r, HttpStatusCode.ServiceUnavailable);
            Assert.True(RetryAfter(r) > 0);
        }

        Assert.Contains(answers, r => r.StatusCode == HttpStatusCode.Created);
    }
}
