using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Gateway;
using Natter.Server.Messaging;
using Natter.Server.Storage;

namespace Natter.Server.Hosting;

/// <summary>
/// Start: the store's schema is created or migrated before anything listens. Stop (SIGTERM): refuse new sends,
/// drain the ingest queue so every accepted message is acked or answered, let the fan-out deliver, then close
/// every socket with 1001.
/// </summary>
public sealed class Lifecycle(
    IChatStore store,
    IngestQueue ingest,
    IMessageBus bus,
    Fanout fanout,
    SocketGateway gateway,
    ConnectionRegistry sockets,
    IOptions<NatterOptions> options,
    ILogger<Lifecycle> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        NatterMetrics.ObserveIngestDepth(() => ingest.Depth);
        var o = options.Value;
        Log.Started(logger, o.NodeName ?? $"{Environment.MachineName}-{Environment.ProcessId}", o.Storage.Provider, o.Bus.Provider);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var o = options.Value.WebSocket;
        gateway.BeginShutdown();
        await ingest.DrainAsync(o.ShutdownDrainTimeout);

        // Let the fan-out hand the last stored messages and their acks to the sockets before they close.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (((bus.Events.CanCount && bus.Events.Count > 0) || !fanout.IsIdle) && DateTime.UtcNow < until)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        Log.ClosingSockets(logger, sockets.Count);
        foreach (var c in sockets.All())
        {
            c.Close(CloseCodes.GoingAway, "server shutting down");
        }

        var closeBy = DateTime.UtcNow + o.CloseTimeout;
        while (sockets.Count > 0 && DateTime.UtcNow < closeBy)
        {
            await Task.Delay(20, CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
