using System.Net.WebSockets;
using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>
/// One open socket: its user, its outbound queues and its single writer loop.
/// Ordering lives here: the writer alone owns the last seq sent per room (over every kind of room event), skips what
/// the socket already has, fills a gap from the store, and holds live events until the socket's first frame (or the hold time) so a
/// sync sent first is answered before them. Control frames (acks, pongs, errors, closes) never wait behind data.
/// Both queues are bounded: data by count (overflow closes with 1013), control by bytes (at the bound the receive
/// loop stops reading this socket until the writer catches up, see <see cref="WaitForRoomAsync"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The abort source has no timer to free, and other threads may still call Close after the socket ends.")]
public sealed class Connection : IAckTarget
{
    private enum Kind { Frame, RoomEvent, Sync, Release, Track, Close }

    /// <summary>One queued thing to do; Payload is a frame (byte[]), an OutboundEvent or a sync request.</summary>
    private readonly record struct Item(Kind Kind, object? Payload = null, string? Text = null, long Number = 0)
    {
        /// <summary>What the item costs in memory while queued: its bytes plus the queue slot and object headers.</summary>
        public int Cost => ItemOverhead + Kind switch
        {
            Kind.Frame => ((byte[])Payload!).Length,
            Kind.Sync => ((IReadOnlyDictionary<string, long>)Payload!).Sum(r => 2 * r.Key.Length + ItemOverhead) + 2 * (Text?.Length ?? 0),
            _ => 2 * (Text?.Length ?? 0),
        };
    }

    private const int ItemOverhead = 64;

    private const int SyncPage = 1000;

    private const int MaxBatch = 256;

    private readonly WebSocket _socket;
    private readonly BatchingStream? _stream;
    private readonly IRoomLogReader _log;
    private readonly NatterMetrics _metrics;
    private readonly ILogger _logger;
    private readonly int _dataLimit;
    private readonly int _controlLimit;
    private readonly TimeSpan _closeTimeout;
    // Plain queues under one lock, created on demand and dropped when drained: an idle socket holds none.
    private readonly Lock _gate = new();
    private Queue<Item>? _control;
    private Queue<Item>? _data;
    private TaskCompletionSource? _wake;
    private TaskCompletionSource? _room;
    private int _controlBytes;
    private bool _completed;
    private readonly CancellationTokenSource _aborted = new();
    private readonly Dictionary<string, long> _lastSent = new(StringComparer.Ordinal);
    private int _dataCount;
    private int _closing;
    private bool _released;

    public Connection(WebSocket socket, BatchingStream? stream, Caller caller, IRoomLogReader log, NatterMetrics metrics,
        ILogger logger, int dataLimit, int controlLimit, TimeSpan closeTimeout)
    {
        _socket = socket;
        _stream = stream;
        UserId = caller.UserId;
        Username = caller.Username;
        SessionId = caller.SessionId;
        _log = log;
        _metrics = metrics;
        _logger = logger;
        _dataLimit = dataLimit;
        _controlLimit = controlLimit;
        _closeTimeout = closeTimeout;
    }

    public string Id { get; } = Guid.NewGuid().ToString("N")[..12];
    public long UserId { get; }
    public string Username { get; }
    public long SessionId { get; }

    /// <summary>Cancelled when the socket is aborted; the receive loop stops on it.</summary>
    public CancellationToken Aborted => _aborted.Token;

    /// <summary>Bytes of control frames (acks, pongs, errors, sync requests) waiting for the writer.</summary>
    public int QueuedControlBytes => Volatile.Read(ref _controlBytes);

    /// <summary>Set when a close was requested by the server (slow reader, policy, logout, shutdown).</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Before the writer starts: the welcome's last seq per room is where live delivery begins.</summary>
    public void StartAt(IEnumerable<MyRoom> rooms)
    {
        foreach (var r in rooms)
        {
            _lastSent[r.Id] = r.LastSeq;
        }
    }

    // ---- called from other threads -------------------------------------------------------------------------

    public void SendControl(byte[] frame) => Enqueue(new Item(Kind.Frame, frame), control: true);

    /// <summary>Queues an ack; it leaves at the next Flush (the group commit acks a whole batch, then flushes once).</summary>
    public void QueueAck(string? reference, StoredEvent stored) => Enqueue(new Item(Kind.Frame, Frames.Ack(reference, stored)), control: true, wake: false);

    /// <summary>Queues the ack of an event that changed nothing (seq null); it leaves at the next Flush.</summary>
    public void QueueUnchangedAck(string? reference, string room, string clientId, long ts) =>
        Enqueue(new Item(Kind.Frame, Frames.UnchangedAck(reference, room, clientId, ts)), control: true, wake: false);

    /// <summary>Wakes the writer for what was queued without waking it; the writer runs on the thread pool.</summary>
    public void Flush() => Wake();

    /// <summary>
    /// The fan-out's flush: the writer, if it is waiting, runs its batch on the calling thread until its next wait
    /// (or until a write or a store read has to wait), so a commit's events reach every socket's transport from
    /// the fan-out's loop, with no hop to another thread per socket.
    /// </summary>
    public void FlushHere() => Wake(inline: true);

    public void SendError(string code, string message, string? reference) => SendControl(Frames.Error(code, message, reference));

    /// <summary>Queues a live room event (seq order per room is the fan-out's job; duplicates are skipped by the writer) without waking the writer: the fan-out flushes each socket once per batch,
    /// so a socket that gets several events of one commit sends them in one write.</summary>
    public void QueueEvent(OutboundEvent outbound) => EnqueueData(new Item(Kind.RoomEvent, outbound), wake: false);

    /// <summary>An event frame that travels with the data (presence, typing, read, member, room).</summary>
    public void SendEvent(byte[] frame) => EnqueueData(new Item(Kind.Frame, frame));

    /// <summary>Start delivering a room the user just joined, after its seq at the time of joining.</summary>
    public void Track(string roomId, long lastSeq) => EnqueueData(new Item(Kind.Track, Text: roomId, Number: lastSeq));

    /// <summary>Answer a sync: stored events of every kind after each room's seq, then "synced".</summary>
    public void Sync(IReadOnlyDictionary<string, long> rooms, string? reference) =>
        Enqueue(new Item(Kind.Sync, rooms, reference), control: true);

    /// <summary>
    /// Holds live messages until the socket's first frame has been handled (<see cref="FirstFrameHandled"/>) or
    /// <paramref name="hold"/> has passed, so a sync sent first is answered before them.
    /// </summary>
    public void HoldLiveMessages(TimeSpan hold) => _ = ReleaseAfterAsync(hold);

    /// <summary>The receive loop has handled the first frame (and queued its answers): live messages may flow.</summary>
    public void FirstFrameHandled() => Release();

    private async Task ReleaseAfterAsync(TimeSpan hold)
    {
        try
        {
            await Task.Delay(hold, _aborted.Token);
            Release();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The one place the hold ends; queued behind any control item (a sync) already queued. Idempotent.</summary>
    private void Release() => Enqueue(new Item(Kind.Release), control: true);

    /// <summary>Closes the socket with a close frame; aborts it if the peer does not complete the close in time.</summary>
    public void Close(int code, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        Enqueue(new Item(Kind.Close, Text: reason, Number: code), control: true);
        _ = AbortLaterAsync();
    }

    private async Task AbortLaterAsync()
    {
        try
        {
            await Task.Delay(_closeTimeout * 2, _aborted.Token);
            Abort();
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Abort()
    {
        if (!_aborted.IsCancellationRequested)
        {
            _aborted.Cancel();
            _socket.Abort();
            Wake();
        }
    }

    private void EnqueueData(Item item, bool wake = true)
    {
        if (IsClosing)
        {
            return;
        }

        int queued;
        lock (_gate)
        {
            queued = ++_dataCount;
            if (queued <= _dataLimit && !_completed)
            {
                (_data ??= new Queue<Item>()).Enqueue(item);
            }
        }

        if (queued > _dataLimit)
        {
            Log.SlowReaderClosed(_logger, Id, Username, queued);
            _metrics.SlowReaderCloses.Add(1);
            Close(CloseCodes.TryAgainLater, "too far behind: reconnect and sync");
            return;
        }

        if (wake)
        {
            Wake();
        }
    }

    private void Enqueue(Item item, bool control, bool wake = true)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            (_control ??= new Queue<Item>()).Enqueue(item);
            _controlBytes += item.Cost;
        }

        if (wake)
        {
            Wake();
        }
    }

    private void Wake(bool inline = false)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            (wake, _wake) = (_wake, null);
        }

        if (wake is null)
        {
            return;
        }

        // The writer's continuation runs where the task completes: here, or on the thread pool.
        if (inline)
        {
            wake.TrySetResult();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static w => w.TrySetResult(), wake, preferLocal: false);
        }
    }

    /// <summary>The next item, control first; data only once released and not closing.</summary>
    private bool TryTake(out Item item)
    {
        lock (_gate)
        {
            if (_control is { Count: > 0 })
            {
                item = _control.Dequeue();
                _controlBytes -= item.Cost;
                if (_control.Count == 0)
                {
                    _control = null;
                }

                // A paused reader resumes once half the bound is free again, so it does not wake for every frame.
                if (_room is not null && _controlBytes <= _controlLimit / 2)
                {
                    _room.TrySetResult();
                    _room = null;
                }

                return true;
            }

            if (_released && !IsClosing && _data is { Count: > 0 })
            {
                item = _data.Dequeue();
                _dataCount--;
                if (_data.Count == 0)
                {
                    _data = null;
                }

                return true;
            }

            item = default;
            return false;
        }
    }

    /// <summary>A task that completes when something may be ready (or the socket is aborted); null if something is.</summary>
    private Task? WaitForWork()
    {
        lock (_gate)
        {
            var ready = _control is { Count: > 0 } || (_released && !IsClosing && _data is { Count: > 0 });
            if (ready || _aborted.IsCancellationRequested)
            {
                return null;
            }

            // Continuations run synchronously: Wake decides the thread (see there).
            _wake = new TaskCompletionSource();
            return _wake.Task;
        }
    }

    /// <summary>
    /// Called by the receive loop before it reads the next frame: true at once while the control queue is under its
    /// bound; otherwise waits (the socket is not read, so the client is slowed by TCP) until the writer has sent half
    /// of it. False when that takes longer than <paramref name="timeout"/>: the client does not read what it asks for.
    /// </summary>
    public async ValueTask<bool> WaitForRoomAsync(TimeSpan timeout)
    {
        Task wait;
        lock (_gate)
        {
            if (_controlBytes < _controlLimit || _completed)
            {
                return true;
            }

            wait = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        _metrics.ReadsPaused.Add(1);
        try
        {
            await wait.WaitAsync(timeout, _aborted.Token);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    // ---- the writer loop -------------------------------------------------------------------------------------

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

                if (handled == 0 && WaitForWork() is { } wait)
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

    private async ValueTask DeliverAsync(StoredEvent m, byte[] frame)
    {
        if (_lastSent.TryGetValue(m.Room, out var last))
        {
            if (m.Seq <= last)
            {
                return;
            }

            if (m.Seq > last + 1)
            {
                await Task.Yield();
                await FillAsync(m.Room, last, m.Seq);
            }
        }

        _lastSent[m.Room] = m.Seq;
        await WriteAsync(frame);
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
            await _socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            Abort();
        }
    }

    /// <summary>The receive loop saw the peer's close: answer it (after what is queued for control) and stop.</summary>
    public void ClosedByPeer()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            Enqueue(new Item(Kind.Close, Text: "", Number: (int)WebSocketCloseStatus.NormalClosure), control: true);
        }
    }

    public async Task WaitWriterAsync(Task writer)
    {
        if (await Task.WhenAny(writer, Task.Delay(_closeTimeout)) != writer)
        {
            Abort();
            await writer;
        }
    }
}

/// <summary>The room log could not be read (the store is unreachable or failed); the inner exception says why.</summary>
public sealed class RoomLogUnavailableException(Exception inner) : Exception("The room log could not be read.", inner);
