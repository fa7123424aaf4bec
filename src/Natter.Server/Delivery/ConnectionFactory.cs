using System.Net.WebSockets;
using Microsoft.Extensions.Options;

namespace Natter.Server.Delivery;

/// <summary>Makes a <see cref="Connection"/> for an accepted socket, with what every connection shares.</summary>
public sealed class ConnectionFactory(IRoomLogReader log, NatterMetrics metrics, IOptions<NatterOptions> options, ILogger<Connection> logger)
{
    public Connection Create(WebSocket socket, BatchingStream? stream, Caller caller) =>
        new(socket, stream, caller, log, metrics, logger, options.Value.Limits.OutboundQueueMessages, options.Value.Limits.OutboundControlBytes,
            options.Value.WebSocket.CloseTimeout);
}
