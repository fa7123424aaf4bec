using System.Threading.Channels;

namespace Natter.Server.Bus;

/// <summary>
/// Carries events from the node that caused them to every node's fan-out (this one included).
/// Implementations: in-process (one node) and Redis (cluster). Per room, an implementation
/// keeps publish order where it can; the fan-out fills any gap in message seqs from the store.
/// </summary>
public interface IMessageBus
{
    /// <summary>Publishes to every node; waits when the local queue is full, so a flood slows its source.</summary>
    ValueTask PublishAsync(BusEvent evt, CancellationToken ct);

    /// <summary>Events for this node's fan-out, read by exactly one reader.</summary>
    ChannelReader<BusEvent> Events { get; }

    /// <summary>True while the bus can deliver (for /healthz).</summary>
    bool IsHealthy { get; }
}
