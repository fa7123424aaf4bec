using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Natter.Server.Api;
using Natter.Server.Delivery;
using Natter.Server.Rooms;
using Natter.Server.Sending;
using Natter.Server.Storage;

namespace Natter.Server.Entry;

/// <summary>
/// GET /ws: checks the origin, accepts the socket, registers its connection, queues the welcome, announces presence,
/// starts the writer, then hands the socket to the receive loop until it ends.
/// </summary>
public sealed class SocketAcceptor(
    ConnectionFactory connections,
    ConnectionRegistry registry,
    IChatStore store,
    StoreHealth health,
    RoomDirectory rooms,
    SocketPresence presence,
    ReceiveLoop receiveLoop,
    EventIntake intake,
    OriginPolicy origins,
    SocketLimits limits,
    NatterMetrics metrics,
    TimeProvider clock,
    IOptions<NatterOptions> options,
    ILogger<SocketAcceptor> logger)
{
    private static readonly System.Security.Claims.ClaimsPrincipal NoOne = new();
    private readonly SocketOptions _socketOptions = options.Value.WebSocket;

    public async Task HandleAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Problems.BadRequest("This endpoint takes WebSocket upgrades only.").ExecuteAsync(http);
            return;
        }

        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !origins.IsAllowed(http.Request, origin))
        {
            Log.OriginRefused(logger, LogText.Escape(origin));
            await Problems.Forbidden("This origin may not open a socket.").ExecuteAsync(http);
            return;
        }

        if (intake.IsStopping)
        {
            await Problems.Unavailable("The server is shutting down.").ExecuteAsync(http);
            return;
        }

        var caller = Caller.From(http.User);
        using var lease = limits.TryOpen(caller.UserId, http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        if (lease is null)
        {
            await Problems.TooMany("Too many open sockets for this user or address.").ExecuteAsync(http);
            return;
        }

        var expiresAt = Caller.SessionExpiresAt(http.User);

        // The socket lives for hours: keep the caller, not the claims and the authentication result.
        http.User = NoOne;
        http.Features.Set<Microsoft.AspNetCore.Authentication.IAuthenticateResultFeature>(null);
        var (socket, stream) = await AcceptAsync(http);
        using var _ = socket;
        var conn = connections.Create(socket, stream, caller);
        if (expiresAt is { } expires)
        {
            conn.CloseWhenSessionEnds(expires, clock);
        }

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

    private async Task RunAsync(Connection conn, WebSocket socket, Caller caller, CancellationToken requestAborted)
    {
        // Registered before the rooms are read: nothing committed after the read can be missed, and anything
        // already counted in the welcome's last_seq is skipped by the writer.
        registry.Add(conn);
        metrics.OpenSockets.Add(1);
        Log.SocketOpened(logger, conn.Id, conn.Username);
        Task? writer = null;
        IReadOnlyList<MyRoom> welcomeRooms = [];
        var reason = "closed";
        try
        {
            var myRooms = await store.ListRoomsOfUserAsync(caller.UserId, requestAborted);
            welcomeRooms = myRooms;
            foreach (var r in myRooms)
            {
                await rooms.GetAsync(r.Id, requestAborted);
            }

            conn.StartAt(myRooms);
            conn.SendControl(Frames.Welcome(caller.Username, myRooms));

            // Presence first: a client that has its welcome is listed online (the writer may send it at once).
            await presence.OpenedAsync(caller, myRooms, requestAborted);
            writer = conn.RunWriterAsync();
            conn.HoldLiveMessages(_socketOptions.FirstFrameHold);
            reason = await receiveLoop.RunAsync(conn, socket, caller);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            reason = e.GetType().Name;
        }
        catch (Exception e) when (StoreFaults.Is(e) && writer is null)
        {
            // The welcome could not be read from the store: the client is told to come back (1011), not cut off.
            health.Failed("welcome", e);
            reason = "the store could not be reached: " + e.Message;
            writer = conn.RunWriterAsync();
            conn.Close(Natter.Protocol.CloseCodes.InternalError, "the store could not be reached; reconnect");
        }
        catch (IOException e)
        {
            reason = e.GetType().Name;
        }
        catch (StoreUnavailableException e)
        {
            reason = e.Message;
        }
        catch (Exception e)
        {
            Log.SocketFailed(logger, conn.Id, e);
            reason = "failed";
        }
        finally
        {
            registry.Remove(conn);
            metrics.OpenSockets.Add(-1);
            if (writer is not null)
            {
                await conn.WaitWriterAsync(writer);
            }

            conn.Abort();
            Log.SocketClosed(logger, conn.Id, conn.Username, reason);
            await presence.ClosedAsync(caller, welcomeRooms);
        }
    }
}
