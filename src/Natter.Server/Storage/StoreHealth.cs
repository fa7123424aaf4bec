using Microsoft.Extensions.Options;

namespace Natter.Server.Storage;

/// <summary>
/// Whether the store answers, as this node sees it, and the log of an outage: one warning when the store goes away
/// (naming the first error, without a stack trace), one line every Storage:OutageLogInterval while it stays away
/// with the count of operations that failed meanwhile, and one line when it answers again. The parts that use the
/// store report their store faults and successes here instead of logging each one; while the store is away a probe
/// (PingAsync, every second) notices its return even when nothing else is using it. Thread-safe.
/// </summary>
public sealed class StoreHealth(IChatStore store, IOptions<NatterOptions> options, TimeProvider clock, ILogger<StoreHealth> logger) : IDisposable
{
    private readonly TimeSpan _reportEvery = options.Value.Storage.OutageLogInterval;
    private readonly Lock _gate = new();
    private volatile bool _down;
    private long _since;
    private long _lastReport;
    private long _failures;
    private CancellationTokenSource? _probe;

    public bool IsAvailable => !_down;

    /// <summary>An operation failed with a store fault (<see cref="StoreFaults.Is"/>).</summary>
    public void Failed(string operation, Exception error)
    {
        lock (_gate)
        {
            _failures++;
            if (_down)
            {
                return;
            }

            _down = true;
            _failures = 1;
            _since = _lastReport = clock.GetTimestamp();
            _probe = new CancellationTokenSource();
            _ = ProbeAsync(_probe.Token);
        }

        Log.StoreUnavailable(logger, operation, error.GetType().Name, error.Message);
    }

    /// <summary>An operation on the store succeeded (cheap when the store was not away).</summary>
    public void Succeeded()
    {
        if (!_down)
        {
            return;
        }

        TimeSpan away;
        long failures;
        lock (_gate)
        {
            if (!_down)
            {
                return;
            }

            _down = false;
            away = clock.GetElapsedTime(_since);
            failures = _failures;
            _probe?.Cancel();
            _probe?.Dispose();
            _probe = null;
        }

        Log.StoreAvailable(logger, Math.Round(away.TotalSeconds, 1), failures);
    }

    private async Task ProbeAsync(CancellationToken ct)
    {
        var every = _reportEvery < TimeSpan.FromSeconds(1) ? _reportEvery : TimeSpan.FromSeconds(1);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(every, clock, ct);
                if (await store.PingAsync(ct))
                {
                    Succeeded();
                    return;
                }

                TimeSpan? away = null;
                long failures;
                lock (_gate)
                {
                    failures = _failures;
                    if (clock.GetElapsedTime(_lastReport) >= _reportEvery)
                    {
                        _lastReport = clock.GetTimestamp();
                        away = clock.GetElapsedTime(_since);
                    }
                }

                if (away is { } a)
                {
                    Log.StoreStillUnavailable(logger, Math.Round(a.TotalSeconds, 1), failures);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Back, or the node is stopping.
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _probe?.Cancel();
            _probe?.Dispose();
            _probe = null;
        }
    }
}
