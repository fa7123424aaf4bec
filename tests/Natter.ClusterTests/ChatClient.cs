using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Natter.ClusterTests;

/// <summary>A received "message" frame.</summary>
public sealed record Received(string Room, long Seq, string From, string Text, string ClientId);

/// <summary>
/// A raw protocol client on ClientWebSocket: one JSON object per text frame, as protocol.md says. It records
/// every message frame per room (duplicates included, so tests can see them) and every presence frame.
/// Every wait has a timeout.
/// </summary>
public sealed class ChatClient : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly Dictionary<string, List<Received>> _rooms = new(StringComparer.Ordinal);
    private readonly List<(string User, bool Online)> _presence = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<JsonElement> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiver = Task.CompletedTask;

    public ChatClient(string username) => Username = username;

    public string Username { get; }

    /// <summary>Completes when the socket ends (closed, aborted, or the node died).</summary>
    public Task Closed => _receiver;

    public static async Task<ChatClient> ConnectAsync(INode node, string username, string token)
    {
        var client = new ChatClient(username);
        client._socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        var ws = new UriBuilder(node.BaseUri) { Scheme = "ws", Path = "/ws" }.Uri;
        await client._socket.ConnectAsync(ws, CancellationToken.None).WaitAsync(Timeout);
        client._receiver = Task.Run(client.ReceiveLoopAsync);
        await client._welcome.Task.WaitAsync(Timeout);
        return client;
    }

    public JsonElement Welcome => _welcome.Task.Result;

    public IReadOnlyList<Received> Messages(string room)
    {
        lock (_gate)
        {
            return _rooms.TryGetValue(room, out var list) ? [.. list] : [];
        }
    }

    public long LastSeq(string room)
    {
        lock (_gate)
        {
            return _rooms.TryGetValue(room, out var list) && list.Count > 0 ? list[^1].Seq : 0;
        }
    }

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

    /// <summary>Sends a message and returns the ack's room and seq.</summary>
    public async Task<(string Room, long Seq)> SendAsync(string? room, string text, string clientId, string? to = null)
    {
        var ack = await RequestAsync(new Dictionary<string, object?>
        {
            ["type"] = "send", ["room"] = room, ["to"] = to, ["text"] = text, ["client_id"] = clientId,
        });
        return (ack.GetProperty("room").GetString()!, ack.GetProperty("seq").GetInt64());
    }

    /// <summary>The close code the server sent, once the socket has ended (null while open or when it was cut without one).</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public bool IsOpen => _socket.State == WebSocketState.Open && !_receiver.IsCompleted;

    /// <summary>Sends a ping and waits for its pong: a socket that answers is not a zombie.</summary>
    public Task PingAsync(TimeSpan within) =>
        RequestAsync(new Dictionary<string, object?> { ["type"] = "ping" }).WaitAsync(within);

    /// <summary>Sends a sync for these rooms and waits for "synced".</summary>
    public Task SyncAsync(IReadOnlyDictionary<string, long> rooms) =>
        RequestAsync(new Dictionary<string, object?> { ["type"] = "sync", ["rooms"] = rooms });

    private async Task<JsonElement> RequestAsync(Dictionary<string, object?> frame)
    {
        var reference = Guid.NewGuid().ToString("N");
        frame["ref"] = reference;
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[reference] = tcs;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame.Where(kv => kv.Value is not null).ToDictionary());
        await _sendGate.WaitAsync(Timeout);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(Timeout);
        }
        finally
        {
            _sendGate.Release();
        }

        var reply = await tcs.Task.WaitAsync(Timeout);
        if (reply.GetProperty("type").GetString() == "error")
        {
            throw new InvalidOperationException($"{Username}: error {reply}");
        }

        return reply;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var frame = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var r = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                frame.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage)
                {
                    continue;
                }

                var json = JsonDocument.Parse(frame.ToArray()).RootElement.Clone();
                frame.SetLength(0);
                Handle(json);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            var closed = new InvalidOperationException($"{Username}: the socket closed");
            foreach (var p in _pending.Values)
            {
                p.TrySetException(closed);
            }

            _welcome.TrySetException(closed);
        }
    }

    private void Handle(JsonElement json)
    {
        var type = json.GetProperty("type").GetString();
        switch (type)
        {
            case "welcome":
                _welcome.TrySetResult(json);
                break;
            case "message":
                var m = new Received(json.GetProperty("room").GetString()!, json.GetProperty("seq").GetInt64(),
                    json.GetProperty("from").GetString()!, json.GetProperty("text").GetString()!, json.GetProperty("client_id").GetString()!);
                lock (_gate)
                {
                    if (!_rooms.TryGetValue(m.Room, out var list))
                    {
                        _rooms[m.Room] = list = [];
                    }

                    list.Add(m);
                }

                break;
            case "presence":
                lock (_gate)
                {
                    _presence.Add((json.GetProperty("username").GetString()!, json.GetProperty("online").GetBoolean()));
                }

                break;
        }

        if (json.TryGetProperty("ref", out var r) && r.ValueKind == JsonValueKind.String && _pending.TryRemove(r.GetString()!, out var tcs))
        {
            tcs.TrySetResult(json);
        }
    }

    /// <summary>Waits until this client has seen the room up to the seq.</summary>
    public async Task WaitForSeqAsync(string room, long seq, TimeSpan within)
    {
        await Api.EventuallyAsync(() => Task.FromResult(LastSeq(room) >= seq), within, $"{Username} sees {room} up to seq {seq} (has {LastSeq(room)})");
    }

    /// <summary>Asserts the room's messages on this client are exactly 1..last, each once, in order.</summary>
    public void AssertGapless(string room, long last)
    {
        var seqs = Messages(room).Select(m => m.Seq).ToArray();
        Assert.True(seqs.SequenceEqual(Enumerable.Range(1, (int)last).Select(i => (long)i)),
            $"{Username} in {room}: expected 1..{last} once each in order, got {seqs.Length} frames: {Describe(seqs)}");
    }

    private static string Describe(long[] seqs)
    {
        var dupes = seqs.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).Take(10);
        var outOfOrder = seqs.Zip(seqs.Skip(1)).Where(p => p.Second <= p.First).Take(5);
        return $"dupes [{string.Join(",", dupes)}], out of order [{string.Join(",", outOfOrder)}], first {string.Join(",", seqs.Take(5))}, last {string.Join(",", seqs.TakeLast(5))}";
    }

    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(3));
            }
            catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException)
            {
            }
        }

        _socket.Abort();
        await _receiver.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _sendGate.Dispose();
    }
}
