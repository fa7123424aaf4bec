using System.Net;
using System.Net.Http.Headers;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 11: /metrics is not open to whoever reaches the chat port.</summary>
public sealed class MetricsAccessTests
{
    [Fact]
    public async Task By_default_metrics_are_not_served_on_the_chat_port()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Http();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task With_a_token_metrics_need_it()
    {
        const string token = "metrics-token-0123456789abcdef";
        await using var server = await TestServer.StartAsync("Natter:Metrics:Token=" + token);
        using var http = server.Http();
        await Problem.AssertAsync(await http.GetAsync("/metrics"), HttpStatusCode.Unauthorized);
        using var wrong = server.Http("metrics-token-0123456789abcdeX");
        await Problem.AssertAsync(await wrong.GetAsync("/metrics"), HttpStatusCode.Unauthorized);

        using var scraper = server.Http(token);
        var r = await scraper.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("natter_", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_management_port_metrics_are_served_there_only_and_nothing_else_is()
    {
        var port = TestServices.FreePort();
        await using var server = await TestServer.StartAsync($"Natter:Metrics:Url=http://127.0.0.1:{port}");
        var user = await server.UserAsync();
        using var http = user.Http();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);

        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TestServer.Timeout };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        var metrics = await management.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("natter_", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await management.GetAsync("/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await management.GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await management.GetAsync("/")).StatusCode);
    }
}
