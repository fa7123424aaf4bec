using System.Diagnostics.Metrics;

namespace Natter.Server.Messaging;

/// <summary>The "Natter" meter: counters an operator watches (exported on /metrics).</summary>
public static class NatterMetrics
{
    public const string MeterName = "Natter";

    private static readonly Meter Meter = new(MeterName, "1.0");

    public static readonly Counter<long> Accepted = Meter.CreateCounter<long>("natter.messages.accepted", description: "Messages accepted into the ingest queue");
    public static readonly Counter<long> Stored = Meter.CreateCounter<long>("natter.messages.stored", description: "Messages committed to the store (duplicates excluded)");
    public static readonly Counter<long> Delivered = Meter.CreateCounter<long>("natter.messages.delivered", description: "Message frames written to sockets");
    public static readonly Counter<long> SlowReaderCloses = Meter.CreateCounter<long>("natter.sockets.slow_reader_closes", description: "Sockets closed with 1013");
    public static readonly Counter<long> LoginFailures = Meter.CreateCounter<long>("natter.logins.failed", description: "Failed logins");
    public static readonly Counter<long> GapsFilled = Meter.CreateCounter<long>("natter.bus.gaps_filled", description: "Seq gaps filled from the store");
    public static readonly Counter<long> BadFrames = Meter.CreateCounter<long>("natter.frames.bad", description: "Client frames refused");
    public static readonly Histogram<int> CommitBatchSize = Meter.CreateHistogram<int>("natter.commit.batch_size", description: "Messages per group commit");
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("natter.commit.duration", unit: "ms", description: "Group commit duration");
    public static readonly Histogram<long> BusLag = Meter.CreateHistogram<long>("natter.bus.lag", unit: "ms", description: "Time from publish on one node to receipt on another (cluster bus)");
    public static readonly Counter<long> BusPublishFailures = Meter.CreateCounter<long>("natter.bus.publish_failures", description: "Bus publishes Redis refused (other nodes fill the gap from the store)");
    public static readonly UpDownCounter<long> OpenSockets = Meter.CreateUpDownCounter<long>("natter.sockets.open", description: "Open WebSockets");

    /// <summary>Registers gauges that read live values.</summary>
    public static void ObserveIngestDepth(Func<int> depth) =>
        Meter.CreateObservableGauge("natter.ingest.depth", depth, description: "Messages waiting in the ingest queue");
}
