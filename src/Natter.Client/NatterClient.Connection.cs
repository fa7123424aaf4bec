using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Natter.Protocol;

namespace Natter.Client;

/// <summary>The socket's life: open (welcome, sync, pending sends), run and reconnect, receive, and dispatch each frame to its event.</summary>
public sealed partial class NatterClient
{
    /// <summary>Upgrade, welcome, then sync as the first frame and every pending send, before anyone else may send.</summary>
    private async Task<(ClientWebSocket Socket, WelcomeInfo Welcome)> OpenAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        timeout.CancelAfter(_options.ConnectTimeout);
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.KeepAliveInterval = _options.KeepAliveInterval;
            socket.Options.SetRequestHeader("Authorization", "Bearer " + _token);
            await socket.ConnectAsync(WebSocketUri(), timeout.Token).ConfigureAwait(false);
            var buffer = new byte[16 * 1024];
            var (first, _) = await ReceiveFrameAsync(socket, buffer, timeout.Token).ConfigureAwait(false);
            if (first?.Type != "welcome")
            {
                throw new NatterException(ErrorCodes.BadRequest, $"expected welcome, got {first?.Type ?? "close"}");
            }
            var welcome = new WelcomeInfo(first.Username ?? "",
                [.. (first.Rooms ?? []).Select(r => ToSummary(r))]);
            Username = welcome.Username;
            var sync = new SyncFrame { Ref = "sync" + Interlocked.Increment(ref _nextRef).ToString(CultureInfo.InvariantCulture) };
            PendingSend[] resend;
            lock (_gate)
            {
                foreach (var room in welcome.Rooms)
                {
                    // A room not seen before: on the first connect, live from the welcome's last_seq (history is an
                    // HTTP call away); on a reconnect it appeared while we were away (e.g. a first direct message),
                    // so everything after the user's read marker is synced.
                    if (!_lastSeq.TryGetValue(room.Id, out var seq))
                    {
                        seq = _welcomed ? room.ReadSeq : room.LastSeq;
                        _lastSeq[room.Id] = seq;
                    }
                    // Only rooms the user is still in: a room left meanwhile would only earn an error.
                    sync.Rooms[room.Id] = seq;
                }
                _welcomed = true;
                _syncRef = sync.Ref;
                resend = [.. _pending.Values];
                if (_synced.Task.IsCompleted)
                {
                    _synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
            await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(sync, ClientJsonContext.Default.SyncFrame),
                    WebSocketMessageType.Text, true, timeout.Token).ConfigureAwait(false);
                var generation = Interlocked.Increment(ref _generation);
                foreach (var pending in resend)
                {
                    pending.SentOnGeneration = generation;
                    await socket.SendAsync(pending.Bytes, WebSocketMessageType.Text, true, timeout.Token).ConfigureAwait(false);
                }
                Volatile.Write(ref _socket, socket);
            }
            finally
            {
                _sendLock.Release();
            }
            Raise(Connected, welcome);
            return (socket, welcome);
        }
        catch (WebSocketException e) when (socket.HttpStatusCode == HttpStatusCode.Unauthorized)
        {
            socket.Dispose();
            throw new NatterHttpException(HttpStatusCode.Unauthorized, e.Message);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task RunAsync(ClientWebSocket socket)
    {
        var attempt = 0;
        while (true)
        {
            var info = await ReceiveLoopAsync(socket).ConfigureAwait(false);
            await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                Volatile.Write(ref _socket, null);
            }
            finally
            {
                _sendLock.Release();
            }
            socket.Dispose();
            FailPings(new WebSocketException(WebSocketError.ConnectionClosedPrematurely));
            var reconnect = _options.AutoReconnect && !_lifetime.IsCancellationRequested && info.CloseStatus is not (CloseCodes.LoggedOut or CloseCodes.AccountDisabled);
            Raise(Disconnected, info with { WillReconnect = reconnect });
            if (!reconnect)
            {
                FailPending(new NatterException(ClientErrorCodes.Closed, $"connection closed ({info.CloseStatus}) {info.Description}"));
                return;
            }
            while (true)
            {
                var max = _options.ReconnectMaxDelay.TotalMilliseconds;
                var delay = Math.Min(max, _options.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)));
#pragma warning disable CA5394 // Jitter only spreads reconnects; no security purpose.
                delay *= 0.5 + (Random.Shared.NextDouble() / 2);
#pragma warning restore CA5394
                attempt++;
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(delay), _lifetime.Token).ConfigureAwait(false);
                    if (_options.BeforeReconnect is { } hook)
                    {
                        await hook(attempt, _lifetime.Token).ConfigureAwait(false);
                    }
                    (socket, _) = await OpenAsync(_lifetime.Token).ConfigureAwait(false);
                    attempt = 0;
                    break;
                }
                catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
                {
                    FailPending(new ObjectDisposedException(nameof(NatterClient)));
                    return;
                }
                catch (NatterHttpException e) when (e.StatusCode == HttpStatusCode.Unauthorized)
                {
                    if (_credentials is not { } c)
                    {
                        FailPending(new NatterException(ErrorCodes.Unauthorized, "token rejected on reconnect"));
                        Raise(Disconnected, new DisconnectInfo(null, ErrorCodes.Unauthorized, e, false));
                        return;
                    }
                    await TryReloginAsync(c).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WebSocketException or HttpRequestException or OperationCanceledException or NatterException or IOException)
                {
                    // Server down or restarting: back off and retry.
                }
            }
        }
    }

    private async Task TryReloginAsync(Credentials credentials)
    {
        try
        {
            await LoginAsync(credentials.Username, credentials.Password, _lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or NatterHttpException or OperationCanceledException)
        {
            // Retried on the next attempt.
        }
    }

    private async Task<DisconnectInfo> ReceiveLoopAsync(ClientWebSocket socket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                (ServerFrame? frame, buffer) = await ReceiveFrameAsync(socket, buffer, _lifetime.Token).ConfigureAwait(false);
                if (frame is null)
                {
                    return new DisconnectInfo((int?)socket.CloseStatus, socket.CloseStatusDescription, null, true);
                }
                Dispatch(frame);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or JsonException or IOException)
        {
            return new DisconnectInfo((int?)socket.CloseStatus, socket.CloseStatusDescription, e, true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads one whole text frame (growing the buffer as needed); null on close.</summary>
    private async Task<(ServerFrame? Frame, byte[] Buffer)> ReceiveFrameAsync(ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            if (count == buffer.Length)
            {
                if (buffer.Length >= _options.MaxFrameBytes)
                {
                    throw new WebSocketException(WebSocketError.Faulted, "frame too large");
                }
                var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, count).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
            }
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    try
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, closeTimeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is WebSocketException or OperationCanceledException)
                    {
                        // Peer already gone.
                    }
                }
                return (null, buffer);
            }
            count += result.Count;
            if (result.EndOfMessage)
            {
                return (JsonSerializer.Deserialize(buffer.AsSpan(0, count), ClientJsonContext.Default.ServerFrame), buffer);
            }
        }
    }

    private void Dispatch(ServerFrame f)
    {
        switch (f.Type)
        {
            case "message":
                if (Advance(f) is { } room)
                {
                    Raise(MessageReceived, new ChatMessage(room, f.Seq!.Value, f.From ?? "", f.Text ?? "", f.Ts, f.ClientId)
                    {
                        ReplyTo = f.ReplyTo,
                        Mentions = NoneIfEmpty(f.Mentions),
                        Deleted = f.Deleted,
                        Files = ToFiles(f.Files),
                    });
                }
                break;
            case "edit":
                if (Advance(f) is { } edited)
                {
                    Raise(MessageEdited, new MessageEdit(edited, f.Seq!.Value, f.From ?? "", f.Ts, f.Target ?? 0, f.Text ?? "", NoneIfEmpty(f.Mentions), f.ClientId));
                }
                break;
            case "delete":
                if (Advance(f) is { } deleted)
                {
                    Raise(MessageDeleted, new MessageDeletion(deleted, f.Seq!.Value, f.From ?? "", f.Ts, f.Target ?? 0, f.ClientId));
                }
                break;
            case "reaction":
                if (Advance(f) is { } reacted)
                {
                    Raise(ReactionChanged, new ReactionChange(reacted, f.Seq!.Value, f.From ?? "", f.Ts, f.Target ?? 0, f.Emoji ?? "", f.On, f.ClientId));
                }
                break;
            case "ack":
                {
                    PendingSend? pending = null;
                    lock (_gate)
                    {
                        if (long.TryParse(f.Ref, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && _pending.Remove(id, out pending))
                        {
                            // Matched by ref.
                        }
                    }
                    pending?.Completion.TrySetResult(new EventAck(f.Room ?? "", f.Seq, f.Ts, f.ClientId ?? pending.ClientId));
                    break;
                }
            case "synced":
                TaskCompletionSource synced;
                lock (_gate) { synced = _synced; }
                if (synced.TrySetResult())
                {
                    Raise(Synced);
                }
                break;
            case "pong":
                CompletePing(f.Ref, null);
                break;
            case "presence":
                Raise(PresenceChanged, new PresenceEvent(f.Username ?? "", f.Online));
                break;
            case "typing":
                Raise(Typing, new TypingEvent(f.Room ?? "", f.Username ?? ""));
                break;
            case "read":
                Raise(Read, new ReadEvent(f.Room ?? "", f.Username ?? "", f.Seq ?? 0));
                break;
            case "member":
                Raise(MemberChanged, new MemberEvent(f.Room ?? "", f.Username ?? "", f.Event ?? "") { Role = f.Role });
                break;
            case "room":
                OnRoomFrame(f);
                break;
            case "error":
                {
                    var error = new ErrorEvent(f.Code ?? ErrorCodes.Internal, f.Message ?? "", f.Ref);
                    if (f.Ref is not null)
                    {
                        PendingSend? pending = null;
                        lock (_gate)
                        {
                            if (long.TryParse(f.Ref, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                            {
                                _pending.Remove(id, out pending);
                            }
                        }
                        pending?.Completion.TrySetException(new NatterException(error.Code, error.Message));
                        CompletePing(f.Ref, new NatterException(error.Code, error.Message));
                        TaskCompletionSource? refusedSync = null;
                        lock (_gate)
                        {
                            if (f.Ref == _syncRef)
                            {
                                refusedSync = _synced; // Live messages still flow; waiting for "synced" would hang.
                            }
                        }
                        refusedSync?.TrySetResult();
                    }
                    Raise(Error, error);
                    break;
                }
            default:
                // Fields and frame types may be added by the server. One with a room and a seq is a room event of a
                // kind this client does not know: it still moves the room's cursor (protocol v2), or the next sync
                // would ask for it again and every later event would look like a gap.
                if (f.Room is not null && f.Seq is not null && Advance(f) is { } other)
                {
                    Raise(UnknownEventReceived, new UnknownRoomEvent(other, f.Seq.Value, f.Type ?? ""));
                }
                break;
        }
    }

    /// <summary>Moves the room's cursor to a room event's seq; null (and counted) when the socket already had it.</summary>
    private string? Advance(ServerFrame f)
    {
        var room = f.Room ?? "";
        var seq = f.Seq ?? 0;
        lock (_gate)
        {
            _lastSeq.TryGetValue(room, out var last);
            if (seq <= last)
            {
                _duplicates++;
                return null;
            }
            if (seq > last + 1 && last > 0)
            {
                _gaps++;
            }
            _lastSeq[room] = seq;
        }
        return room;
    }

    private void CompletePing(string? reference, Exception? error)
    {
        if (reference is null)
        {
            return;
        }
        TaskCompletionSource? tcs;
        lock (_gate) { _pings.Remove(reference, out tcs); }
        if (error is null) { tcs?.TrySetResult(); } else { tcs?.TrySetException(error); }
    }

    private void FailPings(Exception error)
    {
        TaskCompletionSource[] pings;
        lock (_gate)
        {
            pings = [.. _pings.Values];
            _pings.Clear();
        }
        foreach (var p in pings) { p.TrySetException(error); }
    }

    private void FailPending(Exception error)
    {
        PendingSend[] pending;
        lock (_gate)
        {
            pending = [.. _pending.Values];
            _pending.Clear();
            _synced.TrySetException(error);
        }
        foreach (var p in pending) { p.Completion.TrySetException(error); }
        FailPings(error);
    }

    private void Raise<T>(Action<T>? handler, T value)
    {
        try
        {
            handler?.Invoke(value);
        }
#pragma warning disable CA1031 // A user handler must not kill the receive loop; its failure is reported instead.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ReportHandlerFailure(handler, e);
        }
    }

    private void Raise(Action? handler)
    {
        try
        {
            handler?.Invoke();
        }
#pragma warning disable CA1031 // See Raise<T>.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ReportHandlerFailure(handler, e);
        }
    }

    private void ReportHandlerFailure(Delegate? failed, Exception e)
    {
        if (failed is not null && failed == (Delegate?)Error)
        {
            return; // The Error handler itself threw: nowhere left to report it.
        }
        Raise(Error, new ErrorEvent(ClientErrorCodes.Handler, e.Message, null));
    }
}
