using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Delivery;
using Natter.Server.Sending;
using Natter.Server.Storage;

namespace Natter.Server.Hosting;

/// <summary>
/// Start: the store's schema is created or migrated before anything listens. Stop (SIGTERM): refuse new room events,
/// drain the ingest queue so every accepted message is acked or answered, let the fan-out deliver, then close
/// every socket with 1001.
/// </summary>
public sealed class Lifecycle(
    IChatStore store,
    IngestQueue ingest,
    EventIntake intake,
    Fanout fanout,
    ConnectionRegistry sockets,
    NatterMetrics metrics,
    IOptions<NatterOptions> options,
    ILogger<Lifecycle> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        metrics.ObserveIngestDepth(() => ingest.Depth);
        var o = options.Value;
        Log.Started(logger, o.NodeName ?? $"{Environment.MachineName}-{Environment.ProcessId}", o.Storage.Provider, o.Bus.Provider);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var o = options.Value.WebSocket;
        intake.BeginShutdown();
        await ingest.DrainAsync(o.ShutdownDrainTimeout);

        // Let the fan-out hand the last stored messages and their acks to the sockets before they close.
        await fanout.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        Log.ClosingSockets(logger, sockets.Count);
        foreach (var c in sockets.All())
        {
            c.Close(CloseCodes.GoingAway, "server shutting down");
        }

        await sockets.WhenEmptyAsync().WaitAsync(o.CloseTimeout, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
