using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Delivery;

namespace Natter.Server.Entry;

/// <summary>
/// Reads one socket's frames until it closes: size (1009), UTF-8 (1007), binary and empty frames, then hands each
/// text frame to <see cref="FrameHandlers"/>. Too many bad frames close the socket with 1008. The first frame
/// handled ends the connection's hold on live messages. A socket whose control queue is full is not read until its
/// writer catches up (what a client sends never grows its queue without bound); one that stays so is closed with 1013.
/// </summary>
public sealed class ReceiveLoop(FrameHandlers handlers, NatterMetrics metrics, IOptions<NatterOptions> options, ILogger<ReceiveLoop> logger)
{
    private readonly LimitOptions _limits = options.Value.Limits;
    private readonly TimeSpan _closeTimeout = options.Value.WebSocket.CloseTimeout;
    private readonly TimeSpan _backpressureTimeout = options.Value.WebSocket.BackpressureTimeout;

    /// <summary>
    /// Reads frames until the socket closes; returns why it ended. Receives take no cancellation token: the
    /// connection's Abort aborts the WebSocket, which ends a pending receive, and an idle socket then holds no token
    /// registration.
    /// </summary>
    public async Task<string> RunAsync(Connection conn, WebSocket socket, Caller caller)
    {
        var session = new SocketSession(conn, caller, metrics, _limits.BadFramesPerMinute, _limits.PingsPerSecond, logger);
        var max = _limits.MaxFrameBytes;
        var first = true;
        try
        {
            while (true)
            {
                if (!await conn.WaitForRoomAsync(_backpressureTimeout))
                {
                    Log.SocketPolicyClose(logger, conn.Id, conn.Username, CloseCodes.TryAgainLater, "its answers were not read");
                    metrics.SlowReaderCloses.Add(1);
                    return await CloseWithoutReadingAsync(conn, CloseCodes.TryAgainLater, "too far behind: reconnect and sync");
                }

                // Idle sockets hold no buffer: wait with a zero-byte read, rent only when a frame arrives.
                var peek = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    conn.ClosedByPeer();
                    return "closed by client";
                }

                if (peek.EndOfMessage)
                {
                    session.Refuse(ErrorCodes.BadRequest, "The frame is empty.", null);
                }
                else
                {
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
                            result = await socket.ReceiveAsync(buffer.AsMemory(total, Math.Min(buffer.Length, max + 1) - total), CancellationToken.None);
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
                            session.Refuse(ErrorCodes.BadRequest, "Frames are JSON text, not binary.", null);
                        }
                        else if (!System.Text.Unicode.Utf8.IsValid(buffer.AsSpan(0, total)))
                        {
                            // The WebSocket checks UTF-8 first (see RunAsync); this is the second line.
                            return await CloseAndDrainAsync(conn, socket, CloseCodes.InvalidPayload, "frame is not valid UTF-8");
                        }
                        else
                        {
                            await handlers.HandleAsync(session, buffer.AsMemory(0, total));
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }

                if (first)
                {
                    // Whatever the first frame was, its answers are queued now: live messages may follow them.
                    first = false;
                    conn.FirstFrameHandled();
                }

                if (session.TooManyBadFrames)
                {
                    return await CloseAndDrainAsync(conn, socket, CloseCodes.PolicyViolation, "too many bad frames");
                }
            }
        }
        catch (WebSocketException) when (socket.State == WebSocketState.CloseSent)
        {
            // The WebSocket refused a frame itself and sent the close (1007 for a text frame that is not UTF-8: it
            // checks that before handing the bytes on). Stop the writer and read until the client answers the close,
            // so the close frame is not lost to a reset.
            Log.SocketPolicyClose(logger, conn.Id, conn.Username, CloseCodes.InvalidPayload, "frame is not valid UTF-8");
            return await CloseAndDrainAsync(conn, socket, CloseCodes.InvalidPayload, "frame is not valid UTF-8");
        }
    }

    /// <summary>
    /// Closes a socket whose client does not read what it is sent: the close frame is queued behind the unread
    /// answers (it leaves if the client starts reading), the socket stays unread, so TCP keeps its client slowed, and
    /// after the close timeout it is aborted. Reading on to wait for the client's close, as other closes do, would
    /// let a client that never reads go on sending for the whole close timeout.
    /// </summary>
    private async Task<string> CloseWithoutReadingAsync(Connection conn, int code, string reason)
    {
        conn.Close(code, reason);
        try
        {
            await Task.Delay(_closeTimeout, conn.Aborted);
        }
        catch (OperationCanceledException)
        {
        }

        conn.Abort();
        return reason;
    }

    /// <summary>
    /// Closes from the server's side and reads (discarding) until the client answers the close, so the close frame
    /// is not lost to a reset. Gives up after the close timeout.
    /// </summary>
    private async Task<string> CloseAndDrainAsync(Connection conn, WebSocket socket, int code, string reason)
    {
        conn.Close(code, reason);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(conn.Aborted);
        timeout.CancelAfter(_closeTimeout);
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
}
