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

    [Fact]
    public async Task Metrics_carry_the_runtimes_gc_thread_pool_and_cpu_figures()
    {
        await using var server = await TestServer.StartAsync("Natter:Metrics:Token=" + Token);
        GC.Collect();
        var text = await MetricsAsync(server);

        // What an operator reads when a node slows down: collections and pause time, thread-pool queue, CPU time.
        Assert.True(Value(text, "dotnet_gc_collections_total") >= 1);
        Assert.NotNull(Value(text, "dotnet_gc_pause_time_seconds_total"));
        Assert.NotNull(Value(text, "dotnet_thread_pool_queue_length_total"));
        Assert.True(Value(text, "dotnet_process_cpu_time_seconds_total") > 0);
    }

    private static async Task<string> MetricsAsync(TestServer server) =>
        await server.Http(Token).GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);

    private static async Task<double> StoredAsync(TestServer server) => Value(await MetricsAsync(server), "natter_messages_stored_total") ?? 0;

    /// <summary>The first sample of a metric (any labels), or null when /metrics has none.</summary>
    private static double? Value(string text, string name)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
