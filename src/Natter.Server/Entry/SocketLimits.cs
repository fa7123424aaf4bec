using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Natter.Server.Entry;

/// <summary>Open sockets per user (Limits:SocketsPerUser) and per client address (Limits:SocketsPerAddress) on this node.</summary>
public sealed class SocketLimits(IOptions<NatterOptions> options)
{
    private readonly int _perUser = options.Value.Limits.SocketsPerUser;
    private readonly int _perAddress = options.Value.Limits.SocketsPerAddress;
    private readonly ConcurrentDictionary<long, int> _byUser = new();
    private readonly ConcurrentDictionary<string, int> _byAddress = new(StringComparer.Ordinal);

    /// <summary>A lease to dispose when the socket ends; null when the user or the address has as many sockets as allowed.</summary>
    public IDisposable? TryOpen(long userId, string address)
    {
        if (!TryAdd(_byUser, userId, _perUser))
        {
            return null;
        }

        if (!TryAdd(_byAddress, address, _perAddress))
        {
            Remove(_byUser, userId);
            return null;
        }

        return new Lease(this, userId, address);
    }

    private static bool TryAdd<TKey>(ConcurrentDictionary<TKey, int> counts, TKey key, int limit)
        where TKey : notnull
    {
        while (true)
        {
            if (!counts.TryGetValue(key, out var n))
            {
                if (counts.TryAdd(key, 1))
                {
                    return true;
                }

                continue;
            }

            if (n >= limit)
            {
                return false;
            }

            if (counts.TryUpdate(key, n + 1, n))
            {
                return true;
            }
        }
    }

    private static void Remove<TKey>(ConcurrentDictionary<TKey, int> counts, TKey key)
        where TKey : notnull
    {
        while (counts.TryGetValue(key, out var n))
        {
            var done = n <= 1 ? counts.TryRemove(new KeyValuePair<TKey, int>(key, n)) : counts.TryUpdate(key, n - 1, n);
            if (done)
            {
                return;
            }
        }
    }

    private sealed class Lease(SocketLimits limits, long userId, string address) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Remove(limits._byUser, userId);
                Remove(limits._byAddress, address);
            }
        }
    }
}
