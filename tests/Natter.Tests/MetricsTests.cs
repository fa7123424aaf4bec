using System.Net.Http.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

public sealed class MetricsTests
{
    private const string Token = "metrics-token-for-the-tests";

    [Fact]
    public async Task Each_server_in_one_process_counts_only_its_own_messages()
    {
        await using var busy = await TestServer.StartAsync("Natter:Metrics:Token=" + Token);
        await using var quiet = await TestServer.StartAsync("Natter:Metrics:Token=" + Token);
        var amy = await busy.UserAsync("amy");
        var room = await amy.CreateRoomAsync();
        for (var i = 0; i < 3; i++)
        {
            var sent = await amy.Http().PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = $"hello {i}" }, TestContext.Current.CancellationToken);
            sent.EnsureSuccessStatusCode();
        }

        Assert.Equal(3, await StoredAsync(busy));
        Assert.Equal(0, await StoredAsync(quiet));
    }

    private static async Task<double> StoredAsync(TestServer server)
    {
        var text = await server.Http(Token).GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("natter_messages_stored_total", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
