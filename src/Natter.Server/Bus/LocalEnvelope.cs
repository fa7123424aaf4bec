using Natter.Server.Storage;

namespace Natter.Server.Bus;

/// <summary>Whoever hears about a socket send once it is stored (a socket, on the node that accepted the send).</summary>
public interface IAckTarget
{
    /// <summary>Queues the ack; it is sent at the next Flush.</summary>
    void QueueAck(string? reference, StoredMessage message);

    /// <summary>Sends an error at once.</summary>
    void SendError(string code, string message, string? reference);

    void Flush();
}

/// <summary>An ack owed to a socket for a stored message.</summary>
public readonly record struct PendingAck(IAckTarget Target, string? Reference, StoredMessage Message);

/// <summary>
/// What travels beside an event on the node that caused it, never to other nodes: live objects such as the
/// sockets owed an ack. The fan-out queues those acks with the messages, so a sender's ack and its own message
/// leave in one write. ThisNodeOnly: the event itself stays on this node (not published to the others).
/// </summary>
public sealed record LocalEnvelope(IReadOnlyList<PendingAck> Acks, bool ThisNodeOnly = false)
{
    /// <summary>For an event that only this node's sockets may hear.</summary>
    public static LocalEnvelope ThisNode { get; } = new([], ThisNodeOnly: true);
}

/// <summary>One event as the fan-out reads it: the wire event, plus the local envelope when this node published it.</summary>
public readonly record struct BusDelivery(BusEvent Event, LocalEnvelope? Local = null);
