using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Natter.Server.Sending;

/// <summary>
/// Per-user token buckets: sends (socket and HTTP together) and events (typing, read). One replenishing timer
/// serves every user; idle buckets are dropped by the partitioned limiter.
/// </summary>
public sealed class SendRateLimiter : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private readonly PartitionedRateLimiter<long> _sends;
    private readonly PartitionedRateLimiter<long> _events;

    public SendRateLimiter(IOptions<NatterOptions> options)
    {
        var limits = options.Value.Limits;
        _sends = Create(limits.SendsPerSecond, limits.SendBurst);
        _events = Create(limits.EventsPerSecond, limits.EventsPerSecond * 2);
    }

    private static PartitionedRateLimiter<long> Create(int perSecond, int burst) =>
        PartitionedRateLimiter.Create<long, long>(user => RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = Math.Max(1, perSecond / 10),
            ReplenishmentPeriod = Period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

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
