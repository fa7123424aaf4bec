using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Natter.Server.Api;
using Natter.Server.Delivery;
using Natter.Server.Storage;

namespace Natter.Server.Entry.Direct;

/// <summary>
/// A Kestrel connection middleware that answers a connection's first request itself when it is a plain WebSocket
/// upgrade for /ws that will be accepted (token, origin, shutdown and socket limits checked as
/// <see cref="SocketAcceptor.HandleAsync"/> checks them), and runs the socket straight on the connection's transport:
/// no HTTP/1.1 connection, request, HttpContext or middleware frames stay with the socket for its life (about half
/// of what an idle socket held). Everything else (another request, a malformed or incomplete one, a refused upgrade,
/// one that arrives in pieces, TLS, HTTP/2) goes on to Kestrel's HTTP with nothing consumed, so every answer and
/// status is the request pipeline's, as before. A token found refused goes on with the request as a
/// <see cref="RefusedToken"/> connection feature, so the pipeline's 401 needs no second lookup.
/// WebSocket:DirectUpgrade=false turns it off.
/// </summary>
public sealed class DirectUpgrade(
    SocketAcceptor acceptor,
    IOptions<NatterOptions> options,
    IOptions<KestrelServerOptions> kestrel,
    IOptions<HostFilteringOptions> hosts)
{
    private readonly SocketOptions _socketOptions = options.Value.WebSocket;
    private readonly int _managementPort = ManagementEndpoints.ManagementPort(options.Value.Metrics);

    // Behind a configured proxy the client's address and scheme come from X-Forwarded-*, and with AllowedHosts the
    // Host header is filtered: both are the request pipeline's to apply.
    private readonly bool _enabled = options.Value.WebSocket.DirectUpgrade
        && options.Value.Network.KnownProxies.Length + options.Value.Network.KnownNetworks.Length == 0
        && (hosts.Value.AllowedHosts is not { Count: > 0 } allowed || allowed.Contains("*"));

    private readonly TimeSpan _firstBytesTimeout = kestrel.Value.Limits.KeepAliveTimeout;

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (!_enabled || (connection.LocalEndPoint as IPEndPoint)?.Port == _managementPort)
        {
            await next(connection);
            return;
        }

        var input = connection.Transport.Input;
        ReadResult read;
        try
        {
            // A connection that sends nothing is closed after Kestrel's keep-alive timeout, as Kestrel would.
            using var timeout = new CancellationTokenSource(_firstBytesTimeout);
            read = await input.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Admitted? admitted = null;
        try
        {
            admitted = await TryAdmitAsync(read.Buffer, connection);
        }
        finally
        {
            // Accepted: the request is consumed (what follows it is the socket's). Otherwise nothing is, and not
            // even examined, so Kestrel's first read returns the same bytes at once.
            if (admitted is { } a)
            {
                input.AdvanceTo(read.Buffer.GetPosition(a.Request.Length));
            }
            else
            {
                input.AdvanceTo(read.Buffer.Start);
            }
        }

        if (admitted is not { } accepted)
        {
            await next(connection);
            return;
        }

        // The socket runs inside this frame (no nested method's frame more per idle socket).
        var (request, session, lease) = accepted;
        BatchingStream stream;
        WebSocket socket;
        try
        {
            await connection.Transport.Output.WriteAsync(SwitchingProtocols(request.Key), connection.ConnectionClosed);
            stream = new BatchingStream(new PipeStream(connection.Transport));
            socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = true,
                KeepAliveInterval = _socketOptions.KeepAliveInterval,
                KeepAliveTimeout = _socketOptions.KeepAliveTimeout,
            });
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            lease.Dispose();
            return;
        }

        await acceptor.RunAsync(socket, stream, new Caller(session.UserId, session.Username, session.Id), session.ExpiresAt, lease,
            connection.ConnectionClosed);
    }

    private readonly record struct Admitted(UpgradeRequest Request, Session Session, IDisposable Lease);

    private async Task<Admitted?> TryAdmitAsync(ReadOnlySequence<byte> buffer, ConnectionContext connection)
    {
        if (UpgradeRequest.TryRead(buffer, acceptor.Tokens.CookieName) is not { Token: { } token } request)
        {
            return null;
        }

        Session? session;
        try
        {
            session = await acceptor.Tokens.FindAsync(token, connection.ConnectionClosed);
        }
        catch (Exception)
        {
            // The request pipeline meets the same failure and answers it as it always has (a store fault is 503).
            return null;
        }

        if (session is null)
        {
            // The pipeline answers the 401; it learns here that the lookup was made (and its answer).
            connection.Features.Set(new RefusedToken(token));
            return null;
        }

        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
        var lease = acceptor.TryAdmit(new Caller(session.UserId, session.Username, session.Id), request.Origin, "http", request.Host, address);
        return lease is null ? null : new Admitted(request, session, lease);
    }

    /// <summary>The 101 answer, with the headers every response of the request pipeline carries (Api/SecurityHeaders).</summary>
    private static byte[] SwitchingProtocols(string key) => System.Text.Encoding.ASCII.GetBytes(
        "HTTP/1.1 101 Switching Protocols\r\n"
        + "Connection: Upgrade\r\n"
        + "Upgrade: websocket\r\n"
        + $"Sec-WebSocket-Accept: {SocketAcceptor.AcceptKey(key)}\r\n"
        + "X-Content-Type-Options: nosniff\r\n"
        + "X-Frame-Options: DENY\r\n"
        + $"Content-Security-Policy: {SecurityHeaders.ContentSecurityPolicy}\r\n"
        + "Referrer-Policy: no-referrer\r\n"
        + "\r\n");
}
