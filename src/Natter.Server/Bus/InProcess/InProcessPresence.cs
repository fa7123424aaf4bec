namespace Natter.Server.Bus.InProcess;

/// <summary>One node's presence: a count of open sockets per user; one counter orders the announcements.</summary>
public sealed class InProcessPresence : IPresence
{
    private readonly Dictionary<string, int> _sockets = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _version;

    public ValueTask<PresenceChange?> SocketOpenedAsync(long userId, string username, CancellationToken ct)
    {
        lock (_gate)
        {
            var n = _sockets.GetValueOrDefault(username) + 1;
            _sockets[username] = n;
            return ValueTask.FromResult(n == 1 ? new PresenceChange(++_version, false) : (PresenceChange?)null);
        }
    }

    public ValueTask<PresenceChange?> SocketClosedAsync(long userId, string username, CancellationToken ct)
    {
        lock (_gate)
        {
            var n = _sockets.GetValueOrDefault(username) - 1;
            if (n <= 0)
            {
                _sockets.Remove(username);
                return ValueTask.FromResult<PresenceChange?>(new PresenceChange(++_version, false));
            }

            _sockets[username] = n;
            return ValueTask.FromResult<PresenceChange?>(null);
        }
    }

    public ValueTask<IReadOnlyCollection<string>> OnlineUsernamesAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyCollection<string>>([.. _sockets.Keys]);
        }
    }
}
