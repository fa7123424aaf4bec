using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>
/// Deletes expired sessions once an hour. An expired token is already refused at once (the lookup checks the
/// expiry); this only keeps the table from growing. In a cluster every node sweeps; the deletes are idempotent.
/// </summary>
public sealed class SessionSweeper(IChatStore store, TimeProvider clock, ILogger<SessionSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, clock);
        try
        {
            do
            {
                try
                {
                    var deleted = await store.DeleteExpiredSessionsAsync(clock.GetUtcNow(), stoppingToken);
                    Log.SessionsSwept(logger, deleted);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.SessionSweepFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
