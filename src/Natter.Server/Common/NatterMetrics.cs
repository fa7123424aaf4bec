using System.Diagnostics.Metrics;

namespace Natter.Server.Common;

/// <summary>
/// The "Natter" meter: counters an operator watches (exported on /metrics). Created through the host's
/// IMeterFactory, so each node in one process (the cluster tests) counts for itself.
/// </summary>
public sealed class NatterMetrics
{
    public const string MeterName = "Natter";

    private readonly Meter _meter;

    public NatterMetrics(IMeterFactory meters, MeterTag? tag = null)
    {
        _meter = meters.Create(new MeterOptions(MeterName) { Version = "1.0", Tags = tag is null ? null : [tag.Pair] });
        Accepted = _meter.CreateCounter<long>("natter.messages.accepted", description: "Room events (messages, edits, deletions, reactions) accepted into the ingest queue");
        Stored = _meter.CreateCounter<long>("natter.messages.stored", description: "Room events committed to the store (duplicates, refusals and unchanged reactions excluded)");
        Delivered = _meter.CreateCounter<long>("natter.messages.delivered", description: "Room event frames written to sockets live");
        SlowReaderCloses = _meter.CreateCounter<long>("natter.sockets.slow_reader_closes", description: "Sockets closed with 1013");
        ReadsPaused = _meter.CreateCounter<long>("natter.sockets.reads_paused", description: "Times a socket was not read because its control queue was full");
        LoginFailures = _meter.CreateCounter<long>("natter.logins.failed", description: "Failed logins");
        GapsFilled = _meter.CreateCounter<long>("natter.bus.gaps_filled", description: "Seq gaps filled from the store");
        BadFrames = _meter.CreateCounter<long>("natter.frames.bad", description: "Client frames refused");
        CommitBatchSize = _meter.CreateHistogram<int>("natter.commit.batch_size", description: "Room events per group commit");
        CommitDuration = _meter.CreateHistogram<double>("natter.commit.duration", unit: "ms", description: "Group commit duration");
        BusLag = _meter.CreateHistogram<long>("natter.bus.lag", unit: "ms", description: "Time from publish on one node to receipt on another (cluster bus)");
        BusPublishFailures = _meter.CreateCounter<long>("natter.bus.publish_failures", description: "Bus publishes Redis refused (other nodes fill the gap from the store)");
        OpenSockets = _meter.CreateUpDownCounter<long>("natter.sockets.open", description: "Open WebSockets");
    }

    public Counter<long> Accepted { get; }

    public Counter<long> Stored { get; }

    public Counter<long> Delivered { get; }

    public Counter<long> SlowReaderCloses { get; }

    public Counter<long> ReadsPaused { get; }

    public Counter<long> LoginFailures { get; }

    public Counter<long> GapsFilled { get; }

    public Counter<long> BadFrames { get; }

    public Histogram<int> CommitBatchSize { get; }

    public Histogram<double> CommitDuration { get; }

    public Histogram<long> BusLag { get; }

    public Counter<long> BusPublishFailures { get; }

    public UpDownCounter<long> OpenSockets { get; }

    /// <summary>Registers gauges that read live values.</summary>
    public void ObserveIngestDepth(Func<int> depth) =>
        _meter.CreateObservableGauge("natter.ingest.depth", depth, description: "Messages waiting in the ingest queue");
}

/// <summary>
/// Marks this host's "Natter" meter. The metrics exporter listens to every meter of that name in the process, so
/// /metrics keeps only the instruments whose meter carries its own host's tag (several nodes in one test process).
/// </summary>
public sealed class MeterTag
{
    public const string Key = "natter.host";

    public KeyValuePair<string, object?> Pair { get; } = new(Key, Guid.NewGuid().ToString("N"));

    public bool Marks(Meter meter) => meter.Tags?.Any(t => t.Key == Key && Equals(t.Value, Pair.Value)) == true;
}
