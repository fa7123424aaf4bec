using System.Net.WebSockets;
using Natter.Protocol;
using Natter.Server.Storage;

namespace Natter.Server.Delivery;

// The socket's single writer loop: takes what is ready (control first), skips room events the socket already has,
// fills a gap from the store, answers syncs, and writes each batch in one write.
public sealed partial class Connection
{
    private const int SyncPage = 1000;

    private const int MaxBatch = 256;

    public async Task RunWriterAsync()
    {
        try
        {
            while (true)
            {
                // Everything that is ready leaves in one write (up to MaxBatch frames), then the writer sleeps.
                _stream?.BeginBatch();
                var (handled, keepGoing) = await DrainAsync();
                if (_stream is not null)
                {
                    await _stream.EndBatchAsync(_aborted.Token);
                }

                if (!keepGoing)
                {
                    return;
                }

                // After a batch the writer sleeps at once unless more is ready (WaitForWork checks under the lock),
                // rather than taking one more, empty turn; a full batch goes straight on.
                if (handled < MaxBatch && WaitForWork() is { } wait)
                {
                    await wait;
                }

                _aborted.Token.ThrowIfCancellationRequested();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            // The socket is gone or closed; the receive loop notices too. What the batch gathered still leaves: it may
            // hold a close frame the WebSocket wrote itself (from the receive side, e.g. 1007 for invalid UTF-8) just
            // before this writer's next send failed on the closed socket.
            await FlushAfterFailureAsync();
        }
        catch (Exception e)
        {
            // Anything else (a gap the store could not fill, a bug) must not leave the socket open and silent:
            // it is closed with 1011, and the client reconnects and syncs.
            if (e is RoomLogUnavailableException unavailable)
            {
                Log.SocketStoreClose(_logger, Id, Username, unavailable.InnerException?.Message ?? e.Message);
            }
            else
            {
                Log.SocketWriterFailed(_logger, Id, Username, e);
            }

            await CloseAfterFailureAsync();
        }
        finally
        {
            lock (_gate)
            {
                _completed = true;
                (_control, _data) = (null, null);
                _controlBytes = 0;
                _room?.TrySetResult();
                _room = null;
            }
        }
    }

    private async Task FlushAfterFailureAsync()
    {
        if (_stream is null || _aborted.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _stream.EndBatchAsync(CancellationToken.None).AsTask().WaitAsync(_closeTimeout, _aborted.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or ObjectDisposedException or IOException)
        {
        }
    }

    /// <summary>Handles up to MaxBatch ready items, control first; KeepGoing is false once the socket is closed.</summary>
    private async ValueTask<(int Handled, bool KeepGoing)> DrainAsync()
    {
        var handled = 0;
        while (handled < MaxBatch)
        {
            if (!TryTake(out var item))
            {
                break;
            }

            handled++;
            if (!await HandleAsync(item))
            {
                return (handled, false);
            }
        }

        return (handled, true);
    }

    /// <summary>False when the writer must stop (the socket was closed).</summary>
    private async ValueTask<bool> HandleAsync(Item item)
    {
        switch (item.Kind)
        {
            case Kind.Frame:
                await WriteAsync((byte[])item.Payload!);
                return true;
            case Kind.RoomEvent:
                var outbound = (OutboundEvent)item.Payload!;
                await DeliverAsync(outbound.Event, outbound.Frame);
                return true;
            case Kind.Track:
                if (!_lastSent.TryGetValue(item.Text!, out var last) || last < item.Number)
                {
                    _lastSent[item.Text!] = item.Number;
                }

                return true;
            case Kind.Sync:
                // A store read must not hold the thread that woke the writer (the fan-out's loop).
                await Task.Yield();
                await SyncAsync((IReadOnlyDictionary<string, long>)item.Payload!, item.Text);
                return true;
            case Kind.Release:
                _released = true;
                return true;
            case Kind.Close:
                await CloseOutputAsync((int)item.Number, item.Text!);
                return false;
            default:
                return true;
        }
    }

    // One lookup of the room's last seq per event (a ref into the map); a frame the batch takes at once completes
    // without an async frame.
    private ValueTask DeliverAsync(StoredEvent m, byte[] frame)
    {
        ref var last = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_lastSent, m.Room, out var known);
        if (known)
        {
            if (m.Seq <= last)
            {
                return default;
            }

            if (m.Seq > last + 1)
            {
                return FillThenDeliverAsync(m, frame, last);
            }
        }

        last = m.Seq;
        var write = WriteAsync(frame);
        if (write.IsCompletedSuccessfully)
        {
            _metrics.Delivered.Add(1);
            return default;
        }

        return CountWhenWrittenAsync(write);
    }

    private async ValueTask FillThenDeliverAsync(StoredEvent m, byte[] frame, long last)
    {
        await Task.Yield();
        await FillAsync(m.Room, last, m.Seq);
        _lastSent[m.Room] = m.Seq;
        await WriteAsync(frame);
        _metrics.Delivered.Add(1);
    }

    private async ValueTask CountWhenWrittenAsync(ValueTask write)
    {
        await write;
        _metrics.Delivered.Add(1);
    }

    /// <summary>The writer failed mid-batch: what it wrote so far leaves, then a 1011 close; a peer that does not answer is aborted.</summary>
    private async Task CloseAfterFailureAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        _ = AbortLaterAsync();
        try
        {
            await CloseOutputAsync(CloseCodes.InternalError, "internal error: reconnect and sync");
            if (_stream is not null)
            {
                await _stream.EndBatchAsync(_aborted.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            Abort();
        }
    }

    /// <summary>A read of the room log; any failure of it (the store is gone) comes out as <see cref="RoomLogUnavailableException"/>.</summary>
    private async ValueTask<IReadOnlyList<StoredEvent>> ReadLogAsync(string room, long after, long before)
    {
        try
        {
            return await _log.ReadAsync(room, after, before, SyncPage, _aborted.Token);
        }
        catch (Exception e) when (!_aborted.IsCancellationRequested)
        {
            throw new RoomLogUnavailableException(e);
        }
    }

    /// <summary>Sends the stored events with seq in (after, before) that this socket has not had.</summary>
    private async ValueTask FillAsync(string room, long after, long before)
    {
        Log.GapFilled(_logger, room, after + 1, before - 1);
        _metrics.GapsFilled.Add(1);
        while (after < before - 1)
        {
            var page = await ReadLogAsync(room, after, before);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var m in page)
            {
                await WriteAsync(Frames.Event(m));
                after = m.Seq;
            }
        }

        _lastSent[room] = Math.Max(_lastSent.GetValueOrDefault(room), before - 1);
    }

    /// <summary>
    /// Answers a sync. When the store cannot be read, the client gets `internal` with the sync's ref (what was sent
    /// before the failure stands, in seq order) and the socket goes on: the client syncs again later.
    /// </summary>
    private async ValueTask SyncAsync(IReadOnlyDictionary<string, long> rooms, string? reference)
    {
        foreach (var (room, since) in rooms)
        {
            var after = since;
            try
            {
                while (true)
                {
                    var page = await ReadLogAsync(room, after, long.MaxValue);
                    foreach (var m in page)
                    {
                        await WriteAsync(Frames.Event(m));
                        after = m.Seq;
                    }

                    if (page.Count < SyncPage)
                    {
                        break;
                    }
                }
            }
            catch (RoomLogUnavailableException e)
            {
                RaiseLastSent(room, after);
                Log.SyncFailed(_logger, Id, Username, e.InnerException?.Message ?? e.Message);
                await WriteAsync(Frames.Error(ErrorCodes.Internal, "the stored messages could not be read; sync again", reference));
                return;
            }

            RaiseLastSent(room, after);
        }

        await WriteAsync(Frames.Synced(reference));
    }

    private void RaiseLastSent(string room, long seq)
    {
        if (!_lastSent.TryGetValue(room, out var last) || seq > last)
        {
            _lastSent[room] = seq;
        }
    }

    // On a BatchingStream the frame goes straight into the batch (the bytes the WebSocket would write, without its
    // send path per frame); the state check is the one the WebSocket makes before a send.
    // No cancellation token: the WebSocket takes its fast path without one, and Abort() ends a pending send anyway.
    private ValueTask WriteAsync(byte[] frame)
    {
        if (_stream is null)
        {
            return _socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }

        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"The socket is {_socket.State}.");
        }

        return _stream.WriteTextFrameAsync(frame);
    }

    private async Task CloseOutputAsync(int code, string reason)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_aborted.Token);
        timeout.CancelAfter(_closeTimeout);
        try
        {
            // What the batch gathered leaves first, and the close frame is written straight through: a close that
            // answers the client's disposes the stream at once, and a batch still holding the frame would be lost.
            if (_stream is not null)
            {
                await _stream.EndBatchAsync(timeout.Token);
            }

            await _socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            Abort();
        }
    }
}
