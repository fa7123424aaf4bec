namespace Natter.Server.Bus;

/// <summary>
/// A user's presence changed and is to be announced. Version orders the announcements of one user: every node keeps
/// the newest it has passed on and drops an older one that arrives late. ThisNodeOnly: the change is this node's own
/// view (the cluster's presence could not be reached), announced to this node's sockets only; the node announces
/// the cluster's answer once it reaches it again.
/// </summary>
public readonly record struct PresenceChange(long Version, bool ThisNodeOnly);

/// <summary>
/// Who is online, derived from live sockets (on every node in cluster mode), never from a stored column.
/// </summary>
public interface IPresence
{
    /// <summary>Records an opened socket; a change when it is the user's first anywhere (the user came online).</summary>
    ValueTask<PresenceChange?> SocketOpenedAsync(long userId, string username, CancellationToken ct);

    /// <summary>Records a closed socket; a change when it was the user's last anywhere (the user went offline).</summary>
    ValueTask<PresenceChange?> SocketClosedAsync(long userId, string username, CancellationToken ct);

    ValueTask<IReadOnlyCollection<string>> OnlineUsernamesAsync(CancellationToken ct);
}

/// <summary>
/// The users whose presence this node's sockets were told about (the fan-out knows; presence asks after a fault, to
/// check what it told against the cluster's answer).
/// </summary>
public interface IPresenceAudience
{
    IReadOnlyCollection<string> UsersTold();
}
