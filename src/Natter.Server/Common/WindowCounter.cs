using System.Collections.Concurrent;

namespace Natter.Server.Common;

/// <summary>
/// Counts events per key within a sliding window (failed logins per user, registrations per address, rooms created
/// per user). Per node. Keys whose events all left the window are swept once there are many keys, so memory stays
/// bounded by what happened within one window.
/// </summary>
public sealed class WindowCounter(TimeSpan window, TimeProvider clock)
{
    private const int SweepAt = 100_000;
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _events = new(StringComparer.Ordinal);

    /// <summary>Null while the key has fewer than <paramref name="limit"/> events in the window, else how long until it has.</summary>
    public TimeSpan? RetryAfter(string key, int limit)
    {
        if (!_events.TryGetValue(key, out var q))
        {
            return null;
        }

        var now = clock.GetUtcNow();
        lock (q)
        {
            Prune(q, now);
            return q.Count >= limit ? q.Peek() + window - now : null;
        }
    }

    /// <summary>Counts one event.</summary>
    public void Add(string key) => TryAdd(key, int.MaxValue);

    /// <summary>Counts one event unless the key already has <paramref name="limit"/>: then nothing is counted and the wait is returned.</summary>
    public TimeSpan? TryAdd(string key, int limit)
    {
        var now = clock.GetUtcNow();
        var q = _events.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (q)
        {
            Prune(q, now);
            if (q.Count >= limit)
            {
                return q.Peek() + window - now;
            }

            q.Enqueue(now);
        }

        if (_events.Count > SweepAt)
        {
            Sweep(now);
        }

        return null;
    }

    public void Clear(string key) => _events.TryRemove(key, out _);

    private void Prune(Queue<DateTimeOffset> q, DateTimeOffset now)
    {
        while (q.Count > 0 && q.Peek() + window <= now)
        {
            q.Dequeue();
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, q) in _events)
        {
            lock (q)
            {
                Prune(q, now);
                if (q.Count == 0)
                {
                    _events.TryRemove(key, out _);
                }
            }
        }
    }
}
