using System.Collections.Concurrent;
using Natter.Server.Rooms;

namespace Natter.Server.Delivery;

/// <summary>This node's open sockets, by user. Arrays are replaced on change, so readers never lock.</summary>
public sealed class ConnectionRegistry : ILocalInterest
{
    private readonly ConcurrentDictionary<long, Connection[]> _byUser = new();
    private readonly Lock _emptyGate = new();
    private TaskCompletionSource? _empty;
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
                if (rest.Length != list.Length && Interlocked.Decrement(ref _count) == 0)
                {
                    SignalEmpty();
                }

                return;
            }
        }
    }

    public Connection[] Of(long userId) => _byUser.TryGetValue(userId, out var list) ? list : [];

    public IEnumerable<Connection> All() => _byUser.Values.SelectMany(l => l);

    public bool HasLocalSocket(IReadOnlyList<long> users)
    {
        foreach (var u in users)
        {
            if (_byUser.ContainsKey(u))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Completes once no socket is open (shutdown waits on it).</summary>
    public Task WhenEmptyAsync()
    {
        lock (_emptyGate)
        {
            return Count == 0 ? Task.CompletedTask : (_empty ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private void SignalEmpty()
    {
        lock (_emptyGate)
        {
            if (Count == 0)
            {
                _empty?.TrySetResult();
                _empty = null;
            }
        }
    }
}
