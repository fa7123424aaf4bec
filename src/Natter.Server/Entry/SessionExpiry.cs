using Natter.Protocol;
using Natter.Server.Delivery;

namespace Natter.Server.Entry;

/// <summary>
/// Closes each socket with 4001 when its session expires (the token is refused from then on anyway). One timer for
/// all sockets, set to the earliest expiry, instead of a timer and a waiting task per socket: an idle socket holds one
/// entry of a sorted set here.
/// </summary>
public sealed class SessionExpiry : IDisposable
{
    /// <summary>A timer waits at most about 49 days; a session may last longer, so the timer wakes at least daily.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly TimeProvider _clock;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private readonly SortedSet<Entry> _due = new(EntryOrder.Instance);
    private long _nextId;
    private long _armedFor = long.MaxValue;

    public SessionExpiry(TimeProvider clock)
    {
        _clock = clock;
        _timer = clock.CreateTimer(static s => ((SessionExpiry)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>One watched socket; give it back to <see cref="Forget"/> when the socket ends.</summary>
    public readonly record struct Entry(long DueTicks, long Id, Connection Connection);

    /// <summary>Number of sockets watched (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _due.Count;
            }
        }
    }

    public Entry Watch(Connection connection, DateTimeOffset expiresAt)
    {
        var entry = new Entry(expiresAt.UtcTicks, Interlocked.Increment(ref _nextId), connection);
        lock (_gate)
        {
            _due.Add(entry);
            if (entry.DueTicks < _armedFor)
            {
                Arm(entry.DueTicks);
            }
        }

        return entry;
    }

    public void Forget(Entry entry)
    {
        lock (_gate)
        {
            _due.Remove(entry);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Arm(long dueTicks)
    {
        _armedFor = dueTicks;
        var wait = TimeSpan.FromTicks(Math.Max(0, dueTicks - _clock.GetUtcNow().UtcTicks));
        _timer.Change(wait < LongestWait ? wait : LongestWait, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        List<Connection>? expired = null;
        lock (_gate)
        {
            var now = _clock.GetUtcNow().UtcTicks;
            while (_due.Count > 0 && _due.Min.DueTicks <= now)
            {
                var first = _due.Min;
                _due.Remove(first);
                (expired ??= []).Add(first.Connection);
            }

            _armedFor = long.MaxValue;
            if (_due.Count > 0)
            {
                Arm(_due.Min.DueTicks);
            }
        }

        foreach (var connection in expired ?? [])
        {
            connection.Close(CloseCodes.LoggedOut, "session expired");
        }
    }

    private sealed class EntryOrder : IComparer<Entry>
    {
        public static readonly EntryOrder Instance = new();

        public int Compare(Entry x, Entry y)
        {
            var byTime = x.DueTicks.CompareTo(y.DueTicks);
            return byTime != 0 ? byTime : x.Id.CompareTo(y.Id);
        }
    }
}
