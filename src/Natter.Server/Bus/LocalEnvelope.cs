using Natter.Server.Storage;

namespace Natter.Server.Bus;

/// <summary>Whoever hears about a socket's room event once the group commit decided it (a socket, on the node that accepted it).</summary>
public interface IAckTarget
{
    /// <summary>Queues the ack of a stored event (or of the first one, for a repeated client_id); it is sent at the next Flush.</summary>
    void QueueAck(string? reference, StoredEvent stored);

    /// <summary>Queues the ack of an event that changed nothing (a reaction already on or off): seq null.</summary>
    void QueueUnchangedAck(string? reference, string room, string clientId, long ts);

    /// <summary>Sends an error at once.</summary>
    void SendError(string code, string message, string? reference);

    /// <summary>Sends what was queued; the sending runs elsewhere (the caller may block, e.g. the commit thread).</summary>
    void Flush();

    /// <summary>
    /// Sends what was queued, running the send on the calling thread until it would have to wait: for a caller
    /// that flushes many targets in a row and does no blocking work of its own (the fan-out's loop).
    /// </summary>
    void FlushHere();
}

/// <summary>An ack owed to a socket for a stored event.</summary>
public readonly record struct PendingAck(IAckTarget Target, string? Reference, StoredEvent Event);

/// <summary>
/// What travels beside an event on the node that caused it, never to other nodes: live objects such as the
/// sockets owed an ack. The fan-out queues those acks with the events, so a sender's ack and its own message
/// leave in one write. ThisNodeOnly: the event itself stays on this node (not published to the others).
/// </summary>
public sealed record LocalEnvelope(IReadOnlyList<PendingAck> Acks, bool ThisNodeOnly = false)
{
    /// <summary>For an event that only this node's sockets may hear.</summary>
    public static LocalEnvelope ThisNode { get; } = new([], ThisNodeOnly: true);
}

/// <summary>One event as the fan-out reads it: the wire event, plus the local envelope when this node published it.</summary>
public readonly record struct BusDelivery(BusEvent Event, LocalEnvelope? Local = null);
