using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Natter.Server.Accounts;
using Natter.Server.Api;
using Natter.Server.Delivery;
using Natter.Server.Rooms;
using Natter.Server.Sending;
using Natter.Server.Storage;

namespace Natter.Server.Entry;

/// <summary>
/// GET /ws: checks the token, the origin and the socket limits, accepts the socket, registers its connection, queues
/// the welcome, announces presence, starts the writer, then hands the socket to the receive loop until it ends.
/// A plain HTTP/1.1 upgrade usually arrives through <see cref="DirectUpgrade"/> (the connection's first request,
/// answered without Kestrel's HTTP objects); every other one comes here through the request pipeline, ahead of the
/// authentication middleware, so neither keeps the request's claims or middleware frames for the socket's life.
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
    TokenCheck tokens,
    SessionExpiry expiry,
    NatterMetrics metrics,
    IOptions<NatterOptions> options,
    ILogger<SocketAcceptor> logger)
{
    private readonly SocketOptions _socketOptions = options.Value.WebSocket;

    public TokenCheck Tokens => tokens;

    /// <summary>The socket's path as the route "/ws" matched it: any case, with or without a trailing slash.</summary>
    public static bool IsSocketPath(PathString path) =>
        path.Equals("/ws", StringComparison.OrdinalIgnoreCase) || path.Equals("/ws/", StringComparison.OrdinalIgnoreCase);

    /// <summary>The request pipeline's path; every refusal is an HTTP problem answer.</summary>
    public async Task HandleAsync(HttpContext http)
    {
        // A token the direct path already found refused (this connection's first request) is not looked up again.
        var token = NatterAuthentication.ReadToken(http.Request, tokens.CookieName);
        var session = http.Features.Get<Direct.RefusedToken>()?.Take(token) == true ? null : await tokens.FindAsync(token, http.RequestAborted);
        if (session is null)
        {
            await tokens.ChallengeAsync(http);
            return;
        }

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

        var caller = new Caller(session.UserId, session.Username, session.Id);
        var lease = limits.TryOpen(caller.UserId, http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        if (lease is null)
        {
            await Problems.TooMany("Too many open sockets for this user or address.").ExecuteAsync(http);
            return;
        }

        WebSocket socket;
        BatchingStream? stream;
        try
        {
            (socket, stream) = await AcceptAsync(http);
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        await RunAsync(socket, stream, caller, session.ExpiresAt, lease, http.RequestAborted);
    }

    /// <summary>
    /// The direct path's checks, the same as <see cref="HandleAsync"/>'s: a lease when the socket may open now; null
    /// when it may not (the request then goes to the request pipeline, which answers the refusal as HTTP).
    /// </summary>
    public IDisposable? TryAdmit(Caller caller, string? origin, string scheme, string host, string address)
    {
        if ((origin is { Length: > 0 } && !origins.IsAllowed(scheme, host, origin)) || intake.IsStopping)
        {
            return null;
        }

        return limits.TryOpen(caller.UserId, address);
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

        var accept = AcceptKey(key);
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

    /// <summary>RFC 6455 section 4.2.2: the accept value proves the server read the key.</summary>
    public static string AcceptKey(string key)
    {
        // SHA-1 is what the RFC names; no secret is involved.
#pragma warning disable CA5350
        return Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData(
            System.Text.Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
    }

    /// <summary>
    /// Runs an accepted socket until it ends; <paramref name="lease"/> (its place in the socket limits) and the
    /// socket are disposed at the end.
    /// </summary>
    public async Task RunAsync(WebSocket socket, BatchingStream? stream, Caller caller, DateTimeOffset expiresAt, IDisposable lease,
        CancellationToken requestAborted)
    {
        using var _ = lease;
        using var __ = socket;
        var conn = connections.Create(socket, stream, caller);
        var expiryEntry = expiry.Watch(conn, expiresAt);

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
            // A revocation (logout, password change, account disabled) that ran after the token check closed the
            // sockets registered then, not this one: the session is read again now that this socket is registered,
            // and a revocation after this read finds it in the registry.
            if (!await store.IsSessionLiveAsync(caller.SessionId, requestAborted))
            {
                var disabled = (await store.FindProfileAsync(caller.Username, requestAborted))?.Status == UserStatuses.Disabled;
                reason = disabled ? "account disabled while the socket opened" : "session ended while the socket opened";
                writer = conn.RunWriterAsync();
                conn.Close(disabled ? Natter.Protocol.CloseCodes.AccountDisabled : Natter.Protocol.CloseCodes.LoggedOut,
                    disabled ? "account disabled" : "logged out");
                return;
            }

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
        catch (Exception e) when (e is IOException or ObjectDisposedException)
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
            expiry.Forget(expiryEntry);
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
