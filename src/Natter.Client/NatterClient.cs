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

    // ---------------------------------------------------------------- HTTP

    /// <summary>Registers a user; returns true when created, false when the name is already taken (409).</summary>
    public async Task<bool> RegisterAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(Api("api/register"),
            Json(new Credentials { Username = username, Password = password }, ClientJsonContext.Default.Credentials),
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Logs in and keeps the token (and the credentials, to log in again if a reconnect gets 401).</summary>
    public async Task<string> LoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(Api("api/login"),
            Json(new Credentials { Username = username, Password = password }, ClientJsonContext.Default.Credentials),
            cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var login = await response.Content.ReadFromJsonAsync(ClientJsonContext.Default.LoginResponse, cancellationToken).ConfigureAwait(false)
            ?? throw new NatterHttpException(response.StatusCode, "empty login response");
        _token = login.Token;
        Username = login.Username;
        _credentials = new Credentials { Username = username, Password = password };
        return login.Token;
    }

    /// <summary>Registers (ignoring "taken") and logs in.</summary>
    public async Task<string> RegisterOrLoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        await RegisterAsync(username, password, cancellationToken).ConfigureAwait(false);
        return await LoginAsync(username, password, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /api/me: the user the token belongs to (a cheap way to check a saved token).</summary>
    public async Task<string> GetMeAsync(CancellationToken cancellationToken = default)
    {
        var me = await CallAsync(HttpMethod.Get, "api/me", null, ClientJsonContext.Default.UsernameBody, cancellationToken).ConfigureAwait(false);
        Username = me.Username;
        return me.Username;
    }

    public async Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendHttpAsync(HttpMethod.Post, "api/logout", null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        _credentials = null;
    }

    public async Task<RoomInfo> CreateRoomAsync(string name, CancellationToken cancellationToken = default)
    {
        var dto = await CallAsync(HttpMethod.Post, "api/rooms",
            Json(new NameBody { Name = name }, ClientJsonContext.Default.NameBody), ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false);
        return ToInfo(dto);
    }

    public async Task<RoomInfo> JoinRoomAsync(string roomId, CancellationToken cancellationToken = default)
    {
        var dto = await CallAsync(HttpMethod.Post, $"api/rooms/{Uri.EscapeDataString(roomId)}/join", null,
            ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false);
        return ToInfo(dto);
    }

    public async Task LeaveRoomAsync(string roomId, CancellationToken cancellationToken = default)
    {
        using var response = await SendHttpAsync(HttpMethod.Post, $"api/rooms/{Uri.EscapeDataString(roomId)}/leave", null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The one direct room shared with <paramref name="username"/> (created if needed).</summary>
    public async Task<RoomInfo> OpenDirectAsync(string username, CancellationToken cancellationToken = default)
    {
        var dto = await CallAsync(HttpMethod.Post, "api/direct",
            Json(new UsernameBody { Username = username }, ClientJsonContext.Default.UsernameBody), ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false);
        return new RoomInfo(dto.Id, dto.Name, dto.Kind);
    }

    public async Task<IReadOnlyList<RoomSummary>> GetRoomsAsync(CancellationToken cancellationToken = default)
    {
        var list = await CallAsync(HttpMethod.Get, "api/rooms", null, ClientJsonContext.Default.ListRoomDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(ToSummary)];
    }

    /// <summary>GET /api/rooms/{id}/messages: with <paramref name="after"/> the oldest above it, else the newest below <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(string roomId, long? after = null, long? before = null, int? limit = null,
        CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (after is { } a) { query.Add("after=" + a.ToString(CultureInfo.InvariantCulture)); }
        if (before is { } b) { query.Add("before=" + b.ToString(CultureInfo.InvariantCulture)); }
        if (limit is { } l) { query.Add("limit=" + l.ToString(CultureInfo.InvariantCulture)); }
        var path = $"api/rooms/{Uri.EscapeDataString(roomId)}/messages" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        var list = await CallAsync(HttpMethod.Get, path, null, ClientJsonContext.Default.ListMessageDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(ToMessage)];
    }

    /// <summary>
    /// GET /api/rooms/{id}/messages?around=SEQ: the <paramref name="limit"/> messages nearest to <paramref name="seq"/>
    /// (half below it, the rest at or above it), ascending: for jumping to a reply's original.
    /// </summary>
    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAroundAsync(string roomId, long seq, int? limit = null, CancellationToken cancellationToken = default)
    {
        var path = $"api/rooms/{Uri.EscapeDataString(roomId)}/messages?around=" + seq.ToString(CultureInfo.InvariantCulture)
            + (limit is { } l ? "&limit=" + l.ToString(CultureInfo.InvariantCulture) : "");
        var list = await CallAsync(HttpMethod.Get, path, null, ClientJsonContext.Default.ListMessageDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(ToMessage)];
    }

    /// <summary>POST /api/rooms/{id}/messages (idempotent by client_id).</summary>
    public async Task<ChatMessage> PostMessageAsync(string roomId, string text, string? clientId = null, CancellationToken cancellationToken = default)
    {
        var body = new PostMessageBody { Text = text, ClientId = clientId ?? NewClientId() };
        var dto = await CallAsync(HttpMethod.Post, $"api/rooms/{Uri.EscapeDataString(roomId)}/messages",
            Json(body, ClientJsonContext.Default.PostMessageBody), ClientJsonContext.Default.MessageDto, cancellationToken).ConfigureAwait(false);
        return ToMessage(dto);
    }

    // ---------------------------------------------------------------- socket

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

    // ---------------------------------------------------------------- helpers

    private Uri Api(string path) => new(_baseUri, path);

    private Uri WebSocketUri()
    {
        var builder = new UriBuilder(new Uri(_baseUri, "ws"))
        {
            Scheme = _baseUri.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        return builder.Uri;
    }

    /// <summary>A time-ordered id (UUIDv7, 32 hex digits): a server's dedupe index takes consecutive sends at its right edge.</summary>
    private static string NewClientId() => Guid.CreateVersion7().ToString("N");

    private static ByteArrayContent Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private async Task<HttpResponseMessage> SendHttpAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Api(path)) { Content = content };
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }
        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> CallAsync<T>(HttpMethod method, string path, HttpContent? content,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendHttpAsync(method, path, content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
            ?? throw new NatterHttpException(response.StatusCode, "empty response");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        string? detail = null;
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > 0)
            {
                var problem = JsonSerializer.Deserialize(body, ClientJsonContext.Default.ProblemDto);
                detail = problem?.Detail ?? problem?.Title ?? Encoding.UTF8.GetString(body);
            }
        }
        catch (JsonException)
        {
            // Not problem details; the status says enough.
        }
        throw new NatterHttpException(response.StatusCode, detail);
    }

    private static ChatMessage ToMessage(MessageDto m) => new(m.Room, m.Seq, m.From, m.Text, m.Ts, m.ClientId)
    {
        ReplyTo = m.ReplyTo,
        Mentions = NoneIfEmpty(m.Mentions),
        EditedTs = m.EditedTs,
        Deleted = m.Deleted,
        Reactions = m.Reactions is { Count: > 0 } reactions ? [.. reactions.Select(r => new ReactionSummary(r.Emoji, r.Users))] : [],
        Files = ToFiles(m.Files),
    };

    // The shared empty list for none, so a ChatMessage without mentions equals one built without them.
    private static string[] NoneIfEmpty(List<string>? list) => list is { Count: > 0 } ? [.. list] : [];

    private sealed class PendingSend(string clientId, byte[] bytes)
    {
        public string ClientId { get; } = clientId;
        public byte[] Bytes { get; } = bytes;
        public long SentOnGeneration { get; set; } = -1;
        public TaskCompletionSource<EventAck> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
