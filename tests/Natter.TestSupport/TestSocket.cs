using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Natter.TestSupport;

/// <summary>A received "message" frame.</summary>
public sealed record ReceivedMessage(string Room, long Seq, string From, string Text, string ClientId);

/// <summary>
/// A real WebSocket client speaking the protocol's JSON frames (one object per text frame). Frames are read in the
/// background and handed out in arrival order (<see cref="NextAsync(string, TimeSpan?)"/> and friends take them off
/// a queue); requests with a "ref" wait for their own reply; and every "message" and "presence" frame is also kept,
/// duplicates included, so a test can check what arrived without taking it. Every wait has a timeout.
/// </summary>
public sealed class TestSocket : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = Wait.Step;

    private readonly ClientWebSocket _ws;
    private readonly Channel<JsonElement> _frames = Channel.CreateUnbounded<JsonElement>();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<JsonElement> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<ReceivedMessage>> _rooms = new(StringComparer.Ordinal);
    private readonly List<(string User, bool Online)> _presence = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Task _reader;
    private int _disposed;

    private TestSocket(ClientWebSocket ws, string name, bool startReading)
    {
        _ws = ws;
        Name = name;
        _reader = startReading ? Task.Run(ReadLoopAsync) : Task.CompletedTask;
    }

    /// <summary>Names the socket in failure messages (usually the username).</summary>
    public string Name { get; }

    public ClientWebSocket Raw => _ws;

    /// <summary>Close status once the server closed the socket, null if it ended without a close frame.</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    /// <param name="uri">The socket's address (http or https; the scheme becomes ws or wss).</param>
    /// <param name="startReading">False leaves every frame unread, as a stalled client would.</param>
    public static async Task<TestSocket> ConnectAsync(
        Uri uri, string? token, Action<ClientWebSocketOptions>? options = null, bool startReading = true, string name = "socket")
    {
        var ws = new ClientWebSocket();
        if (token is not null)
        {
            ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        options?.Invoke(ws.Options);
        var wsUri = new UriBuilder(uri) { Scheme = uri.Scheme == "https" ? "wss" : "ws" }.Uri;
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await ws.ConnectAsync(wsUri, cts.Token);
        }
        catch
        {
            ws.Dispose();
            throw;
        }

        return new TestSocket(ws, name, startReading);
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var r = await _ws.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult(r.CloseStatus);
                    return;
                }

                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage)
                {
                    continue;
                }

                JsonElement frame;
                using (var doc = JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length)))
                {
                    frame = doc.RootElement.Clone();
                }

                message.SetLength(0);
                Record(frame);
                _frames.Writer.TryWrite(frame);
            }
        }
        catch (Exception)
        {
            _closed.TrySetResult(_ws.CloseStatus);
        }
        finally
        {
            _frames.Writer.TryComplete();
            var closed = new InvalidOperationException($"{Name}: the socket closed ({_ws.CloseStatus})");
            // Canceled, not faulted: nobody may be waiting for a welcome that never came.
            _welcome.TrySetCanceled();
            foreach (var p in _pending.Values)
            {
                p.TrySetException(closed);
            }
        }
    }

    private void Record(JsonElement frame)
    {
        switch (Str(frame, "type"))
        {
            case "welcome":
                _welcome.TrySetResult(frame);
                break;
            case "message" when Str(frame, "room") is { } room:
                var m = new ReceivedMessage(room, frame.GetProperty("seq").GetInt64(), Str(frame, "from") ?? "", Str(frame, "text") ?? "", Str(frame, "client_id") ?? "");
                lock (_gate)
                {
                    if (!_rooms.TryGetValue(room, out var list))
                    {
                        _rooms[room] = list = [];
                    }

                    list.Add(m);
                }

                break;
            case "presence":
                lock (_gate)
                {
                    _presence.Add((Str(frame, "username") ?? "", frame.GetProperty("online").GetBoolean()));
                }

                break;
        }

        if (Str(frame, "ref") is { } reference && _pending.TryRemove(reference, out var reply))
        {
            reply.TrySetResult(frame);
        }
    }

    private static string? Str(JsonElement frame, string property) =>
        frame.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public Task SendTextAsync(string text) => SendBytesAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type)
    {
        if (!await _sendLock.WaitAsync(Timeout))
        {
            throw new TimeoutException($"{Name}: the previous send did not finish within {Timeout}.");
        }

        try
        {
            using var cts = new CancellationTokenSource(Timeout);
            await _ws.SendAsync(bytes, type, endOfMessage: true, cts.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Sends the frame with a fresh "ref" (properties that are null are left out) and returns the reply that carries
    /// it. An error reply, or the socket closing first, throws InvalidOperationException.
    /// </summary>
    public async Task<JsonElement> RequestAsync(object frame)
    {
        var json = JsonSerializer.SerializeToNode(frame)?.AsObject() ?? throw new ArgumentException("A frame is a JSON object.", nameof(frame));
        foreach (var key in json.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            json.Remove(key);
        }

        var reference = Guid.NewGuid().ToString("N");
        json["ref"] = reference;
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[reference] = reply;
        try
        {
            await SendTextAsync(json.ToJsonString());
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            _pending.TryRemove(reference, out _);
            throw new InvalidOperationException($"{Name}: the send failed ({_ws.State})", e);
        }

        var answer = await reply.Task.WaitAsync(Timeout);
        if (Str(answer, "type") == "error")
        {
            throw new InvalidOperationException($"{Name}: error {answer}");
        }

        return answer;
    }

    /// <summary>Sends a message and waits for its ack; returns the ack's room and seq.</summary>
    public async Task<(string Room, long Seq)> SendMessageAsync(string? room, string text, string clientId, string? to = null)
    {
        var ack = await RequestAsync(new { type = "send", room, to, text, client_id = clientId });
        return (ack.GetProperty("room").GetString()!, ack.GetProperty("seq").GetInt64());
    }

    /// <summary>Sends a sync for these rooms and waits for "synced".</summary>
    public Task SyncAsync(IReadOnlyDictionary<string, long> rooms) => RequestAsync(new { type = "sync", rooms });

    /// <summary>The welcome frame (without taking it off the queue).</summary>
    public async Task<JsonElement> WelcomeAsync()
    {
        try
        {
            return await _welcome.Task.WaitAsync(Timeout);
        }
        catch (TaskCanceledException)
        {
            throw new InvalidOperationException($"{Name}: the socket closed ({_ws.CloseStatus}) before the welcome.");
        }
    }

    /// <summary>The next frame this predicate accepts (others before it are dropped).</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, string what, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        try
        {
            while (true)
            {
                var frame = await _frames.Reader.ReadAsync(cts.Token);
                if (match(frame))
                {
                    return frame;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name}: no {what} within {timeout ?? Timeout}.");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"{Name}: the socket closed ({_ws.CloseStatus}) before {what} came.");
        }
    }

    /// <summary>The next frame of this type (others before it are dropped).</summary>
    public Task<JsonElement> NextAsync(string type, TimeSpan? timeout = null) =>
        NextAsync(f => Str(f, "type") == type, $"\"{type}\" frame", timeout);

    /// <summary>The next frame, whatever its type: OperationCanceledException after the timeout, ChannelClosedException once closed.</summary>
    public async Task<JsonElement> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        return await _frames.Reader.ReadAsync(cts.Token);
    }

    /// <summary>True when no frame of this type arrives within the wait.</summary>
    public async Task<bool> NoneAsync(string type, TimeSpan wait)
    {
        try
        {
            await NextAsync(type, wait);
            return false;
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    /// <summary>Frames of a type until count of them arrived.</summary>
    public async Task<List<JsonElement>> TakeAsync(string type, int count, TimeSpan? timeout = null)
    {
        var list = new List<JsonElement>(count);
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (list.Count < count)
        {
            JsonElement frame;
            try
            {
                frame = await _frames.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name}: only {list.Count} of {count} \"{type}\" frames arrived.");
            }

            if (Str(frame, "type") == type)
            {
                list.Add(frame);
            }
        }

        return list;
    }

    public async Task<WebSocketCloseStatus?> WaitClosedAsync(TimeSpan? timeout = null) =>
        await _closed.Task.WaitAsync(timeout ?? Timeout);

    /// <summary>Every "message" frame of the room received so far, in arrival order, duplicates included.</summary>
    public IReadOnlyList<ReceivedMessage> Messages(string room)
    {
        lock (_gate)
        {
            return _rooms.TryGetValue(room, out var list) ? [.. list] : [];
        }
    }

    /// <summary>The seq of the last message received in the room, 0 before any.</summary>
    public long LastSeq(string room)
    {
        lock (_gate)
        {
            return _rooms.TryGetValue(room, out var list) && list.Count > 0 ? list[^1].Seq : 0;
        }
    }

    /// <summary>Every "presence" frame received so far.</summary>
    public IReadOnlyList<(string User, bool Online)> Presence
    {
        get
        {
            lock (_gate)
            {
                return [.. _presence];
            }
        }
    }

    /// <summary>Waits until this socket has seen the room up to the seq.</summary>
    public Task WaitForSeqAsync(string room, long seq, TimeSpan within) =>
        Wait.UntilAsync(() => LastSeq(room) >= seq, $"{Name} sees {room} up to seq {seq} (has {LastSeq(room)})", within);

    /// <summary>Asserts the room's messages on this socket are exactly 1..last, each once, in order.</summary>
    public void AssertGapless(string room, long last)
    {
        var seqs = Messages(room).Select(m => m.Seq).ToArray();
        Assert.True(seqs.SequenceEqual(Enumerable.Range(1, (int)last).Select(i => (long)i)),
            $"{Name} in {room}: expected 1..{last} once each in order, got {seqs.Length} frames: {Describe(seqs)}");
    }

    private static string Describe(long[] seqs)
    {
        var dupes = seqs.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).Take(10);
        var outOfOrder = seqs.Zip(seqs.Skip(1)).Where(p => p.Second <= p.First).Take(5);
        return $"dupes [{string.Join(",", dupes)}], out of order [{string.Join(",", outOfOrder)}], first {string.Join(",", seqs.Take(5))}, last {string.Join(",", seqs.TakeLast(5))}";
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Abort() => _ws.Abort();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
                await _closed.Task.WaitAsync(TimeSpan.FromSeconds(2));
            }
        }
        catch (Exception)
        {
            // Closing is best effort: the server may be gone already.
        }

        await _stop.CancelAsync();
        _ws.Abort();
        await _reader.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ws.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }
}
