using System.Collections.Concurrent;

namespace Natter.Server.Gateway;

/// <summary>This node's open sockets, by user. Arrays are replaced on change, so readers never lock.</summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, Connection[]> _byUser = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(Connection c)
    {
        _byUser.AddOrUpdate(c.UserId, _ => [c], (_, list) => [.. list, c]);
        Interlocked.Increment(ref _count);
    }

    public void Remove(Connection c)
    {
        while (_byUser.TryGetValue(c.UserId, out var list))
        {
            var rest = list.Where(x => x != c).ToArray();
            var done = rest.Length == 0
                ? _byUser.TryRemove(new KeyValuePair<long, Connection[]>(c.UserId, list))
                : _byUser.TryUpdate(c.UserId, rest, list);
            if (done)
            {
                if (rest.Length != list.Length)
                {
                    Interlocked.Decrement(ref _count);
                }

                return;
            }
        }
    }

    public Connection[] Of(long userId) => _byUser.TryGetValue(userId, out var list) ? list : [];

    public IEnumerable<Connection> All() => _byUser.Values.SelectMany(l => l);
}
