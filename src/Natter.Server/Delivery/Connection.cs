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
public sealed partial class Connection : IAckTarget, System.Threading.Tasks.Sources.IValueTaskSource
{
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
    // The writer's sleep: one reusable completion source (no new task per wake); _sleeping says a wait is pending.
    private System.Threading.Tasks.Sources.ManualResetValueTaskSourceCore<bool> _wake;
    private bool _sleeping;
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
