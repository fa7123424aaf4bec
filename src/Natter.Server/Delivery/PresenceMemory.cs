namespace Natter.Server.Delivery;

/// <summary>
/// What this node's sockets were last told about each user's presence, with the version of that announcement, for
/// at most <c>capacity</c> users: past it, the quarter told least recently is forgotten (a forgotten user's next
/// announcement is simply taken as new). Thread-safe: the fan-out writes it, presence reads the names after a fault.
/// </summary>
public sealed class PresenceMemory(int capacity)
{
    /// <summary>Unversioned: the last word was this node's own view (the cluster could not be asked), not an ordered announcement.</summary>
    public readonly record struct Told(long UserId, long Version, bool Online, bool Unversioned);

    private readonly Dictionary<string, (Told Told, long Touched)> _users = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _clock;

    public bool TryGet(string username, out Told told)
    {
        lock (_gate)
        {
            var found = _users.TryGetValue(username, out var entry);
            told = entry.Told;
            return found;
        }
    }

    public void Set(string username, Told told)
    {
        lock (_gate)
        {
            _users[username] = (told, ++_clock);
            if (_users.Count > capacity)
            {
                var forget = _users.Count - (capacity - capacity / 4);
                foreach (var name in _users.OrderBy(u => u.Value.Touched).Take(forget).Select(u => u.Key).ToArray())
                {
                    _users.Remove(name);
                }
            }
        }
    }

    public string[] Usernames()
    {
        lock (_gate)
        {
            return [.. _users.Keys];
        }
    }
}
