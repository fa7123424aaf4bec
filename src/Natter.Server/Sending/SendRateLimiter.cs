using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Natter.Server.Sending;

/// <summary>
/// Per-user token buckets: sends (socket and HTTP together) and events (typing, read). One replenishing timer
/// serves every user; idle buckets are dropped by the partitioned limiter.
/// </summary>
public sealed class SendRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<long> _sends;
    private readonly PartitionedRateLimiter<long> _events;

    public SendRateLimiter(IOptions<NatterOptions> options)
    {
        var limits = options.Value.Limits;
        _sends = Create(limits.SendsPerSecond, limits.SendBurst);
        _events = Create(limits.EventsPerSecond, limits.EventsPerSecond * 2);
    }

    // Tokens come about ten times a second, in whole tokens, at exactly the configured rate: 25/s is 2 every 80 ms,
    // 5/s is 1 every 200 ms (a fixed 100 ms tick with perSecond / 10 tokens turned 25/s into 20/s and 5/s into 10/s).
    private static PartitionedRateLimiter<long> Create(int perSecond, int burst)
    {
        var tokens = Math.Max(1, perSecond / 10);
        var period = TimeSpan.FromSeconds((double)tokens / Math.Max(1, perSecond));
        return PartitionedRateLimiter.Create<long, long>(user => RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public bool TrySend(long userId) => TryAcquire(_sends, userId);

    public bool TryEvent(long userId) => TryAcquire(_events, userId);

    private static bool TryAcquire(PartitionedRateLimiter<long> limiter, long userId)
    {
        using var lease = limiter.AttemptAcquire(userId);
        return lease.IsAcquired;
    }

    public void Dispose()
    {
        _sends.Dispose();
        _events.Dispose();
    }
}
