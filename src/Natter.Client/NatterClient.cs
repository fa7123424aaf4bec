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

/// <summary>
/// A Natter client: HTTP account/room calls plus one WebSocket that survives reconnects.
/// It remembers each room's last seq (over every room event: messages, edits, deletions, reactions, and types it
/// does not know) and sends "sync" as the first frame of every socket, so events arrive exactly once and in order
/// across reconnects; unacknowledged sends, edits, deletions and reactions are resent with the same client_id after
/// a reconnect (the server stores them once). Events run on the receive loop: keep handlers short; an exception
/// thrown by a handler is reported through <see cref="Error"/> with code <see cref="ClientErrorCodes.Handler"/>. <see cref="RoomTimeline"/> keeps
/// a room's messages current from these events.
/// </summary>
public sealed partial class NatterClient : IAsyncDisposable
{
    private readonly Uri _baseUri;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly NatterClientOptions _options;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Dictionary<string, long> _lastSeq = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, PendingSend> _pending = [];
    private readonly Dictionary<string, TaskCompletionSource> _pings = new(StringComparer.Ordinal);
    private ClientWebSocket? _socket;
    private long _generation;
    private long _nextRef;
    private TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _runLoop;
    private string? _token;
    private Credentials? _credentials;
    private long _duplicates;
    private long _gaps;
    private int _disposed;
    private bool _welcomed;
    private string? _syncRef;

    public NatterClient(Uri baseUri, NatterClientOptions? options = null, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        _baseUri = baseUri;
        _options = options ?? new NatterClientOptions();
        _ownsHttp = http is null;
        _http = http ?? new HttpClient();
    }

    /// <summary>A stored message in one of the user's rooms (including the client's own sends).</summary>
    public event Action<ChatMessage>? MessageReceived;
    /// <summary>A message's text was edited (an "edit" event).</summary>
    public event Action<MessageEdit>? MessageEdited;
    /// <summary>A message was deleted (a "delete" event).</summary>
    public event Action<MessageDeletion>? MessageDeleted;
    /// <summary>A reaction was added or removed (a "reaction" event).</summary>
    public event Action<ReactionChange>? ReactionChanged;
    /// <summary>A room event of a type this client does not know (its seq moved the room's cursor all the same).</summary>
    public event Action<UnknownRoomEvent>? UnknownEventReceived;
    public event Action<PresenceEvent>? PresenceChanged;
    public event Action<TypingEvent>? Typing;
    public event Action<ReadEvent>? Read;
    public event Action<MemberEvent>? MemberChanged;
    /// <summary>The user was added to a room (e.g. a first direct message to them).</summary>
    public event Action<RoomInfo>? RoomAdded;
    /// <summary>An error frame; also raised for errors that fail a pending send or ping.</summary>
    public event Action<ErrorEvent>? Error;
    /// <summary>A socket was opened and welcomed (first connect and every reconnect).</summary>
    public event Action<WelcomeInfo>? Connected;
    /// <summary>The sync sent as the socket's first frame has completed: the client is caught up.</summary>
    public event Action? Synced;
    public event Action<DisconnectInfo>? Disconnected;

    public string? Token => _token;

    public string? Username { get; private set; }

    public bool IsConnected => Volatile.Read(ref _socket) is { State: WebSocketState.Open };

    /// <summary>Room events dropped because their seq was not above the room's last seq (should stay 0).</summary>
    public long DuplicatesDropped => Interlocked.Read(ref _duplicates);

    /// <summary>Room events that arrived with a seq more than one above the room's last seq (should stay 0).</summary>
    public long GapsSeen => Interlocked.Read(ref _gaps);

    /// <summary>Number of sends not yet acknowledged.</summary>
    public int PendingSends
    {
        get { lock (_gate) { return _pending.Count; } }
    }

    /// <summary>The last seq seen per room.</summary>
    public IReadOnlyDictionary<string, long> LastSeqs
    {
        get { lock (_gate) { return new Dictionary<string, long>(_lastSeq, StringComparer.Ordinal); } }
    }

    /// <summary>Seeds a room's last seq (e.g. from persisted state) so the next sync starts after it.</summary>
    public void SetLastSeq(string room, long seq)
    {
        lock (_gate) { _lastSeq[room] = seq; }
    }

    /// <summary>Uses an existing token instead of <see cref="LoginAsync"/>.</summary>
    public void UseToken(string token) => _token = token;

    /// <summary>
    /// Opens the socket (ws://host/ws with the bearer token), sends sync as the first frame and returns once
    /// the server answers "synced". From then on the client reconnects by itself until disposed.
    /// </summary>
    public async Task<WelcomeInfo> ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_token is null)
        {
            throw new InvalidOperationException("Log in (or UseToken) before connecting.");
        }
        lock (_gate)
        {
            if (_runLoop is not null)
            {
                throw new InvalidOperationException("Already connected.");
            }
            _runLoop = Task.CompletedTask;
        }
        try
        {
            var (socket, welcome) = await OpenAsync(cancellationToken).ConfigureAwait(false);
            Task synced;
            lock (_gate)
            {
                synced = _synced.Task;
            }
            _runLoop = Task.Run(() => RunAsync(socket), CancellationToken.None);
            await synced.WaitAsync(cancellationToken).ConfigureAwait(false);
            return welcome;
        }
        catch
        {
            lock (_gate)
            {
                if (_runLoop == Task.CompletedTask)
                {
                    _runLoop = null;
                }
            }
            throw;
        }
    }

    /// <summary>Sends to a room; completes with the ack once the message is stored. Survives reconnects.</summary>
    public Task<SendAck> SendAsync(string room, string text, string? clientId = null, CancellationToken cancellationToken = default)
        => SendCoreAsync(new SendFrame { Room = room, Text = text, ClientId = clientId ?? NewClientId() }, cancellationToken);

    /// <summary>Sends a message that answers the message at <paramref name="replyTo"/> in the same room.</summary>
    public Task<SendAck> ReplyAsync(string room, long replyTo, string text, string? clientId = null, CancellationToken cancellationToken = default)
        => SendCoreAsync(new SendFrame { Room = room, Text = text, ReplyTo = replyTo, ClientId = clientId ?? NewClientId() }, cancellationToken);

    /// <summary>Replaces the text of one's own message at <paramref name="target"/>; completes once the edit is stored. Survives reconnects.</summary>
    public Task<EventAck> EditAsync(string room, long target, string text, string? clientId = null, CancellationToken cancellationToken = default)
        => EventCoreAsync(new EventFrame { Type = "edit", Room = room, Target = target, Text = text, ClientId = clientId ?? NewClientId() }, cancellationToken);

    /// <summary>Deletes the message at <paramref name="target"/> (one's own, or any as the room's owner or a server admin).</summary>
    public Task<EventAck> DeleteAsync(string room, long target, string? clientId = null, CancellationToken cancellationToken = default)
        => EventCoreAsync(new EventFrame { Type = "delete", Room = room, Target = target, ClientId = clientId ?? NewClientId() }, cancellationToken);

    /// <summary>
    /// Adds (<paramref name="on"/>) or removes one's reaction on the message at <paramref name="target"/>. The ack's
    /// Seq is null when nothing changed (the reaction was already on, or already off).
    /// </summary>
    public Task<EventAck> ReactAsync(string room, long target, string emoji, bool on = true, string? clientId = null, CancellationToken cancellationToken = default)
        => EventCoreAsync(new EventFrame { Type = "react", Room = room, Target = target, Emoji = emoji, On = on, ClientId = clientId ?? NewClientId() }, cancellationToken);

    /// <summary>Sends a direct message to a user (the server creates the direct room if needed).</summary>
    public Task<SendAck> SendDirectAsync(string toUsername, string text, string? clientId = null, CancellationToken cancellationToken = default)
        => SendCoreAsync(new SendFrame { To = toUsername, Text = text, ClientId = clientId ?? NewClientId() }, cancellationToken);

    public Task TypingAsync(string room, CancellationToken cancellationToken = default)
        => SendControlAsync(new SimpleFrame { Type = "typing", Room = room }, cancellationToken);

    public Task MarkReadAsync(string room, long seq, CancellationToken cancellationToken = default)
        => SendControlAsync(new SimpleFrame { Type = "read", Room = room, Seq = seq }, cancellationToken);

    /// <summary>Round trip to the server over the socket.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        var reference = "p" + Interlocked.Increment(ref _nextRef).ToString(CultureInfo.InvariantCulture);
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) { _pings[reference] = tcs; }
        try
        {
            await SendControlAsync(new SimpleFrame { Type = "ping", Ref = reference }, cancellationToken).ConfigureAwait(false);
            await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate) { _pings.Remove(reference); }
        }
    }

    /// <summary>Closes the socket (1000), stops reconnecting and fails pending sends.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        var socket = Volatile.Read(ref _socket);
        if (socket is { State: WebSocketState.Open })
        {
            using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                // Under the send lock: a close must not interleave with a frame being written.
                await _sendLock.WaitAsync(closeTimeout.Token).ConfigureAwait(false);
                try
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", closeTimeout.Token).ConfigureAwait(false);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The socket is going away anyway; abort below.
            }
        }
        await _lifetime.CancelAsync().ConfigureAwait(false);
        socket?.Abort();
        if (_runLoop is { } loop)
        {
            try
            {
                await loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or WebSocketException)
            {
                // Shutting down.
            }
        }
        FailPending(new ObjectDisposedException(nameof(NatterClient)));
        socket?.Dispose();
        _lifetime.Dispose();
        _sendLock.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<SendAck> SendCoreAsync(SendFrame frame, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextRef);
        frame.Ref = id.ToString(CultureInfo.InvariantCulture);
        var ack = await PendingCoreAsync(id, frame.ClientId, JsonSerializer.SerializeToUtf8Bytes(frame, ClientJsonContext.Default.SendFrame), cancellationToken).ConfigureAwait(false);
        return new SendAck(ack.Room, ack.Seq ?? 0, ack.Ts, ack.ClientId);
    }

    private Task<EventAck> EventCoreAsync(EventFrame frame, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextRef);
        frame.Ref = id.ToString(CultureInfo.InvariantCulture);
        return PendingCoreAsync(id, frame.ClientId, JsonSerializer.SerializeToUtf8Bytes(frame, ClientJsonContext.Default.EventFrame), cancellationToken);
    }

    /// <summary>A frame that waits for its ack, resent with the same client_id after a reconnect until it gets one.</summary>
    private async Task<EventAck> PendingCoreAsync(long id, string clientId, byte[] bytes, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new PendingSend(clientId, bytes);
        lock (_gate)
        {
            if (_runLoop is null)
            {
                throw new InvalidOperationException("ConnectAsync first.");
            }
            _pending.Add(id, pending);
        }
        using var registration = cancellationToken.Register(() =>
        {
            lock (_gate) { _pending.Remove(id); }
            pending.Completion.TrySetCanceled(cancellationToken);
        });
        await TransmitPendingAsync(pending, cancellationToken).ConfigureAwait(false);
        return await pending.Completion.Task.ConfigureAwait(false);
    }

    private async Task TransmitPendingAsync(PendingSend pending, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var socket = _socket;
            var generation = Interlocked.Read(ref _generation);
            if (socket is null || pending.SentOnGeneration == generation || pending.Completion.Task.IsCompleted)
            {
                return; // Not connected: the reconnect resends it.
            }
            pending.SentOnGeneration = generation;
            await socket.SendAsync(pending.Bytes, WebSocketMessageType.Text, true, _lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket is failing; the receive loop notices, reconnects and resends every pending send.
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendControlAsync(SimpleFrame frame, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, ClientJsonContext.Default.SimpleFrame);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var socket = _socket ?? throw new InvalidOperationException("Not connected.");
            await socket.SendAsync(bytes, WebSocketMessageType.Text, true, _lifetime.Token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private sealed class PendingSend(string clientId, byte[] bytes)
    {
        public string ClientId { get; } = clientId;
        public byte[] Bytes { get; } = bytes;
        public long SentOnGeneration { get; set; } = -1;
        public TaskCompletionSource<EventAck> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
