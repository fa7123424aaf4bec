using System.Threading.Channels;

namespace Natter.Server.Bus;

/// <summary>
/// Carries events from the node that caused them to every node's fan-out (this one included).
/// Implementations: in-process (one node) and Redis (cluster). Per room, an implementation
/// keeps publish order where it can; the fan-out fills any gap in a room's seqs from the store.
/// Events carry only what goes on the wire; live objects ride on the <see cref="LocalEnvelope"/>, which
/// reaches this node's fan-out only.
/// </summary>
public interface IMessageBus
{
    /// <summary>Publishes to every node; waits when the local queue is full, so a flood slows its source.</summary>
    ValueTask PublishAsync(BusEvent evt, LocalEnvelope? local, CancellationToken ct);

    /// <summary>Events for this node's fan-out, read by exactly one reader.</summary>
    ChannelReader<BusDelivery> Events { get; }

    /// <summary>True while the bus can deliver (for /healthz).</summary>
    bool IsHealthy { get; }
}

public static class MessageBusExtensions
{
    /// <summary>Publishes an event that has nothing local beside it.</summary>
    public static ValueTask PublishAsync(this IMessageBus bus, BusEvent evt, CancellationToken ct) => bus.PublishAsync(evt, null, ct);
}
