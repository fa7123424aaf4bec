using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>
/// Keeps each session's last_seen (the session list) roughly current without a write per request: a session's use
/// is written at most once per Auth:SessionLastSeenInterval on each node. Opening a socket is a use; a socket that
/// stays open does not move it. A failed write is not the request's failure: the request goes on.
/// </summary>
public sealed class SessionActivity(IChatStore store, IOptions<NatterOptions> options, TimeProvider clock, ILogger<SessionActivity> logger)
{
    /// <summary>Remembered sessions at most; past it the memory starts over (some sessions are written once more).</summary>
    private const int Capacity = 100_000;

    private readonly ConcurrentDictionary<long, long> _written = new();
    private readonly long _intervalMs = (long)options.Value.Auth.SessionLastSeenInterval.TotalMilliseconds;

    public async Task TouchAsync(long sessionId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var ms = now.ToUnixTimeMilliseconds();
        if (_written.TryGetValue(sessionId, out var last) && ms - last < _intervalMs)
        {
            return;
        }

        if (_written.Count >= Capacity)
        {
            _written.Clear();
        }

        _written[sessionId] = ms;
        try
        {
            await store.TouchSessionAsync(sessionId, now, ct);
        }
        catch (StoreUnavailableException e)
        {
            _written.TryRemove(sessionId, out _);
            Log.SessionTouchFailed(logger, e);
        }
    }
}
