using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>
/// Deletes expired sessions every Auth:SessionSweepInterval and tells every node (SessionsExpired on the bus), so
/// their sockets close with 4001 wherever they are. An expired token is already refused at once (the lookup checks
/// the expiry), and each socket also closes itself when its session's time is up; the sweep keeps the table from
/// growing and catches sessions whose expiry changed in the store. In a cluster every node sweeps; the deletes are
/// idempotent.
/// </summary>
public sealed class SessionSweeper(IChatStore store, IMessageBus bus, IOptions<NatterOptions> options, TimeProvider clock, ILogger<SessionSweeper> logger)
    : BackgroundService
{
    private const int IdsPerEvent = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Auth.SessionSweepInterval, clock);
        try
        {
            do
            {
                try
                {
                    var deleted = await store.DeleteExpiredSessionsAsync(clock.GetUtcNow(), stoppingToken);
                    foreach (var chunk in deleted.Chunk(IdsPerEvent))
                    {
                        await bus.PublishAsync(new SessionsExpired(chunk), stoppingToken);
                    }

                    Log.SessionsSwept(logger, deleted.Count);
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
