using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>
/// Counts failed logins per username and per client address within a sliding window. Once either count
/// reaches its limit, logins for that key get 429 until the oldest failure leaves the window.
/// Per node: in a cluster each node counts on its own (docs/cluster.md).
/// </summary>
public sealed class LoginThrottle(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly AuthOptions _auth = options.Value.Auth;
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    /// <summary>Null when a login may be tried, else how long to wait.</summary>
    public TimeSpan? RetryAfter(string username, string address)
    {
        var now = clock.GetUtcNow();
        var a = Check("u:" + username, _auth.LoginFailuresPerUser, now);
        var b = Check("a:" + address, _auth.LoginFailuresPerAddress, now);
        return a is null ? b : b is null ? a : (a > b ? a : b);
    }

    public void RecordFailure(string username, string address)
    {
        var now = clock.GetUtcNow();
        Add("u:" + username, now);
        Add("a:" + address, now);
    }

    public void RecordSuccess(string username) => _failures.TryRemove("u:" + username, out _);

    private TimeSpan? Check(string key, int limit, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var q))
        {
            return null;
        }

        lock (q)
        {
            Prune(q, now);
            return q.Count >= limit ? q.Peek() + _auth.LoginFailureWindow - now : null;
        }
    }

    private void Add(string key, DateTimeOffset now)
    {
        var q = _failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (q)
        {
            Prune(q, now);
            q.Enqueue(now);
        }

        if (_failures.Count > 100_000)
        {
            Sweep(now);
        }
    }

    private void Prune(Queue<DateTimeOffset> q, DateTimeOffset now)
    {
        while (q.Count > 0 && q.Peek() + _auth.LoginFailureWindow <= now)
        {
            q.Dequeue();
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, q) in _failures)
        {
            lock (q)
            {
                Prune(q, now);
                if (q.Count == 0)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
    }
}
