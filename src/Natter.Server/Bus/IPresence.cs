namespace Natter.Server.Bus;

/// <summary>
/// Who is online, derived from live sockets (on every node in cluster mode), never from a stored column.
/// </summary>
public interface IPresence
{
    /// <summary>Records an opened socket; true when it is the user's first anywhere (the user came online).</summary>
    ValueTask<bool> SocketOpenedAsync(long userId, string username, CancellationToken ct);

    /// <summary>Records a closed socket; true when it was the user's last anywhere (the user went offline).</summary>
    ValueTask<bool> SocketClosedAsync(long userId, string username, CancellationToken ct);

    ValueTask<IReadOnlyCollection<string>> OnlineUsernamesAsync(CancellationToken ct);
}
