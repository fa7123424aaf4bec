using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Api;
using Natter.Server.Bus;
using Natter.Server.Hosting;
using Natter.Server.Messaging;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Gateway;

/// <summary>
/// GET /ws: accepts the socket, sends the welcome, then runs the receive loop, which parses and checks each
/// frame and turns it into a command; the connection's writer loop sends everything out.
/// </summary>
public sealed partial class SocketGateway(
    ConnectionRegistry registry,
    IChatStore store,
    RoomDirectory rooms,
    MessageService messages,
    IngestQueue ingest,
    IMessageBus bus,
    IPresence presence,
    SendRateLimiter limiter,
    IOptions<NatterOptions> options,
    ILogger<SocketGateway> logger)
{
    private static readonly System.Security.Claims.ClaimsPrincipal NoOne = new();
    private readonly LimitOptions _limits = options.Value.Limits;
    private readonly SocketOptions _socketOptions = options.Value.WebSocket;
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    public void BeginShutdown() => _stopping = true;

    public async Task HandleAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Problems.BadRequest("This endpoint takes WebSocket upgrades only.").ExecuteAsync(http);
            return;
        }

        if (!IsOriginAllowed(http.Request))
        {
            Log.OriginRefused(logger, http.Request.Headers.Origin.ToString());
            await Problems.Forbidden("This origin may not open a socket.").ExecuteAsync(http);
            return;
        }

        if (_stopping)
        {
            await Problems.Unavailable("The server is shutting down.").ExecuteAsync(http);
            return;
        }

        var caller = Caller.From(http.User);
        // The socket lives for hours: keep the caller, not the claims and the authentication result.
        http.User = NoOne;
        http.Features.Set<Microsoft.AspNetCore.Authentication.IAuthenticateResultFeature>(null);
        var (socket, stream) = await AcceptAsync(http);
        using var _ = socket;
        var conn = new Connection(socket, stream, caller.UserId, caller.Username, caller.SessionId, store, logger,
            _limits.OutboundQueueMessages, _socketOptions.CloseTimeout);
        await RunAsync(conn, socket, caller, http.RequestAborted);
    }

    /// <summary>
    /// Completes the HTTP/1.1 upgrade by hand so the WebSocket sits on a BatchingStream: the writer can then
    /// send many frames in one write. Other upgrades (HTTP/2) use the framework's accept.
    /// </summary>
    private async Task<(WebSocket Socket, BatchingStream? Stream)> AcceptAsync(HttpContext http)
    {
        var upgrade = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>();
        var key = http.Request.Headers.SecWebSocketKey.ToString();
        if (upgrade is not { IsUpgradableRequest: true } || key.Length == 0)
        {
            return (await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = _socketOptions.KeepAliveInterval,
                KeepAliveTimeout = _socketOptions.KeepAliveTimeout,
            }), null);
        }

        // RFC 6455 section 4.2.2: the accept value proves the server read the key (SHA-1 is what the RFC names; no secret is involved).
#pragma warning disable CA5350
        var accept = Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData(
            System.Text.Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        http.Response.Headers.Connection = "Upgrade";
        http.Response.Headers.Upgrade = "websocket";
        http.Response.Headers.SecWebSocketAccept = accept;
        var stream = new BatchingStream(await upgrade.UpgradeAsync());
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = _socketOptions.KeepAliveInterval,
            KeepAliveTimeout = _socketOptions.KeepAliveTimeout,
        });
        return (socket, stream);
    }

    private bool IsOriginAllowed(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        var own = $"{request.Scheme}://{request.Host}";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
            || _socketOptions.AllowedOrigins.Any(o => o == "*" || string.Equals(o.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase));
    }

    private async Task RunAsync(Connection conn, WebSocket socket, Caller caller, CancellationToken requestAborted)
    {
        // Registered before the rooms are read: nothing committed after the read can be missed, and anything
        // already counted in the welcome's last_seq is skipped by the writer.
        registry.Add(conn);
        NatterMetrics.OpenSockets.Add(1);
        Log.SocketOpened(logger, conn.Id, conn.Username);
        Task? writer = null;
        var reason = "closed";
        try
        {
            var myRooms = await store.ListRoomsOfUserAsync(caller.UserId, requestAborted);
            foreach (var r in myRooms)
            {
                await rooms.GetAsync(r.Id, requestAborted);
            }

            conn.StartAt(myRooms);
            conn.SendControl(Frames.Welcome(caller.Username, myRooms));
            writer = conn.RunWriterAsync();
            if (await presence.SocketOpenedAsync(caller.UserId, caller.Username, requestAborted))
            {
                await bus.PublishAsync(new PresenceEvent(caller.UserId, caller.Username, true, myRooms.Select(r => r.Id).ToArray()), requestAborted);
            }

            _ = ReleaseAfterHoldAsync(conn);
            reason = await ReceiveLoopAsync(conn, socket, caller);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            reason = e.GetType().Name;
        }
        catch (Exception e)
        {
            Log.SocketFailed(logger, conn.Id, e);
            reason = "failed";
        }
        finally
        {
            registry.Remove(conn);
            NatterMetrics.OpenSockets.Add(-1);
            if (writer is not null)
            {
                await conn.WaitWriterAsync(writer);
            }

            conn.Abort();
            Log.SocketClosed(logger, conn.Id, conn.Username, reason);
            await PresenceClosedAsync(caller);
        }
    }

    private async Task PresenceClosedAsync(Caller caller)
    {
        try
        {
            if (await presence.SocketClosedAsync(caller.UserId, caller.Username, CancellationToken.None))
            {
                var myRooms = await store.ListRoomsOfUserAsync(caller.UserId, CancellationToken.None);
                await bus.PublishAsync(new PresenceEvent(caller.UserId, caller.Username, false, myRooms.Select(r => r.Id).ToArray()), CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            Log.SocketFailed(logger, "presence", e);
        }
    }

    private async Task ReleaseAfterHoldAsync(Connection conn)
    {
        try
        {
            await Task.Delay(_socketOptions.FirstFrameHold, conn.Aborted);
            conn.Release();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Reads frames until the socket closes; returns why it ended.</summary>
    private async Task<string> ReceiveLoopAsync(Connection conn, WebSocket socket, Caller caller)
    {
        var max = _limits.MaxFrameBytes;
        var badFrames = new Queue<long>();
        var first = true;
        while (true)
        {
            // Idle sockets hold no buffer: wait with a zero-byte read, rent only when a frame arrives.
            var peek = await socket.ReceiveAsync(Memory<byte>.Empty, conn.Aborted);
            if (peek.MessageType == WebSocketMessageType.Close)
            {
                conn.ClosedByPeer();
                return "closed by client";
            }

            if (peek.EndOfMessage)
            {
                // An empty frame: nothing to parse.
                first = false;
                if (Refuse(conn, badFrames, ErrorCodes.BadRequest, "The frame is empty.", null))
                {
                    return await CloseAndDrainAsync(conn, socket, CloseCodes.PolicyViolation, "too many bad frames");
                }

                continue;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(max + 1, 4096));
            try
            {
                var total = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (total == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, total).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    // Never read more than one byte past the limit.
                    result = await socket.ReceiveAsync(buffer.AsMemory(total, Math.Min(buffer.Length, max + 1) - total), conn.Aborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        conn.ClosedByPeer();
                        return "closed by client";
                    }

                    total += result.Count;
                    if (total > max)
                    {
                        Log.SocketPolicyClose(logger, conn.Id, conn.Username, CloseCodes.TooLarge, "frame too large");
                        return await CloseAndDrainAsync(conn, socket, CloseCodes.TooLarge, $"frame over {max} bytes");
                    }
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    if (Refuse(conn, badFrames, ErrorCodes.BadRequest, "Frames are JSON text, not binary.", null))
                    {
                        return await CloseAndDrainAsync(conn, socket, CloseCodes.PolicyViolation, "too many bad frames");
                    }

                    continue;
                }

                if (!System.Text.Unicode.Utf8.IsValid(buffer.AsSpan(0, total)))
                {
                    return await CloseAndDrainAsync(conn, socket, CloseCodes.InvalidPayload, "frame is not valid UTF-8");
                }

                var refused = await HandleFrameAsync(conn, caller, buffer.AsMemory(0, total), first, badFrames);
                first = false;
                if (refused)
                {
                    return await CloseAndDrainAsync(conn, socket, CloseCodes.PolicyViolation, "too many bad frames");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Closes from the server's side and reads (discarding) until the client answers the close, so the close frame
    /// is not lost to a reset. Gives up after the close timeout.
    /// </summary>
    private async Task<string> CloseAndDrainAsync(Connection conn, WebSocket socket, int code, string reason)
    {
        conn.Close(code, reason);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(conn.Aborted);
        timeout.CancelAfter(_socketOptions.CloseTimeout);
        var scrap = new byte[1024];
        try
        {
            while ((await socket.ReceiveAsync(scrap.AsMemory(), timeout.Token)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
        }

        return reason;
    }

    /// <summary>Sends an error frame; true when the socket has now sent too many bad frames and is being closed.</summary>
    private bool Refuse(Connection conn, Queue<long> badFrames, string code, string message, string? reference)
    {
        conn.SendError(code, message, reference);
        if (code is ErrorCodes.RateLimited or ErrorCodes.Internal)
        {
            return false;
        }

        NatterMetrics.BadFrames.Add(1);
        var now = Environment.TickCount64;
        badFrames.Enqueue(now);
        while (badFrames.Count > 0 && now - badFrames.Peek() > 60_000)
        {
            badFrames.Dequeue();
        }

        if (badFrames.Count > _limits.BadFramesPerMinute)
        {
            Log.SocketPolicyClose(logger, conn.Id, conn.Username, CloseCodes.PolicyViolation, "too many bad frames");
            return true;
        }

        return false;
    }
}
