using System.Collections;
using Microsoft.Extensions.Logging.Console;
using Natter.Server.Sending;
using Natter.Server.Delivery;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Natter.Server.Hosting;

/// <summary>
/// /metrics (the "Natter" meter and the runtime's "System.Runtime" meter in Prometheus text format, via OpenTelemetry)
/// and logs that name the node.
/// </summary>
public static class NatterTelemetry
{
    public const string RuntimeMeterName = "System.Runtime";

    public static string NodeName(IConfiguration configuration) =>
        configuration.GetSection(NatterOptions.Section)["NodeName"] is { Length: > 0 } name
            ? name
            : $"{Environment.MachineName}-{Environment.ProcessId}";

    public static IServiceCollection AddNatterTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var node = NodeName(configuration);
        var tag = new MeterTag();
        services.AddSingleton(tag);
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("natter", serviceInstanceId: node))
            // System.Runtime (GC pauses and heap, JIT, thread pool, lock contention, CPU time, working set) is published
            // by the runtime itself: what an operator reads first when a node's latency rises.
            .WithMetrics(m => m.AddMeter(NatterMetrics.MeterName, RuntimeMeterName)
                .AddView(i => i.Meter.Name == NatterMetrics.MeterName && !tag.Marks(i.Meter) ? MetricStreamConfiguration.Drop : null)
                .AddPrometheusExporter());

        // Every log line carries the node: a scope that is always there (the logger factory's scope provider).
        services.AddSingleton<IExternalScopeProvider>(new NodeScopeProvider(node));
        services.Configure<SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
        return services;
    }

    /// <summary>The usual scope stack with the node's scope at its root.</summary>
    private sealed class NodeScopeProvider(string node) : IExternalScopeProvider
    {
        private readonly LoggerExternalScopeProvider _inner = new();
        private readonly NodeScope _root = new(node);

        public void ForEachScope<TState>(Action<object?, TState> callback, TState state)
        {
            callback(_root, state);
            _inner.ForEachScope(callback, state);
        }

        public IDisposable Push(object? state) => _inner.Push(state);
    }

    /// <summary>Structured as {Node}; printed as "node NAME".</summary>
    private sealed class NodeScope(string node) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?> _pair = new("Node", node);

        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] => index == 0 ? _pair : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return _pair;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"node {node}";
    }
}
