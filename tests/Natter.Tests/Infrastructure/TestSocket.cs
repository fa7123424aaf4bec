using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Natter.Tests.Infrastructure;

/// <summary>A real WebSocket client: frames are read in the background and handed out in arrival order.</summary>
public sealed class TestSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;
    private readonly Channel<JsonElement> _frames = Channel.CreateUnbounded<JsonElement>();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private TestSocket(ClientWebSocket ws, bool startReading)
    {
        _ws = ws;
        _reader = startReading ? Task.Run(ReadLoopAsync) : Task.CompletedTask;
    }

    public ClientWebSocket Raw => _ws;

    public static async Task<TestSocket> ConnectAsync(Uri uri, string? token, Action<ClientWebSocketOptions>? options = null, bool startReading = true)
    {
        var ws = new ClientWebSocket();
        if (token is not null)
        {
            ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        options?.Invoke(ws.Options);
        var wsUri = new UriBuilder(uri) { Scheme = uri.Scheme == "https" ? "wss" : "ws" }.Uri;
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        await ws.ConnectAsync(wsUri, cts.Token);
        return new TestSocket(ws, startReading);
    }

    /// <summary>Close status once the server closed the socket, null if it ended without a close frame.</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var total = 0;
                WebSocketReceiveResult r;
                do
                {
                    r = await _ws.ReceiveAsync(new ArraySegment<byte>(buffer, total, buffer.Length - total), _stop.Token);
                    total += r.Count;
                }
                while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);

                if (r.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult(r.CloseStatus);
                    return;
                }

                using var doc = JsonDocument.Parse(buffer.AsMemory(0, total));
                _frames.Writer.TryWrite(doc.RootElement.Clone());
            }
        }
        catch (Exception)
        {
            _closed.TrySetResult(_ws.CloseStatus);
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public Task SendTextAsync(string text) => SendBytesAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type)
    {
        await _sendLock.WaitAsync();
        try
        {
            using var cts = new CancellationTokenSource(TestServer.Timeout);
            await _ws.SendAsync(bytes, type, endOfMessage: true, cts.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next frame of this type (others before it are dropped).</summary>
    public async Task<JsonElement> NextAsync(string type, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestServer.Timeout);
        try
        {
            while (true)
            {
                var frame = await _frames.Reader.ReadAsync(cts.Token);
                if (frame.GetProperty("type").GetString() == type)
                {
                    return frame;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No \"{type}\" frame within {timeout ?? TestServer.Timeout}.");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"The socket closed ({_ws.CloseStatus}) before a \"{type}\" frame came.");
        }
    }

    /// <summary>The next frame, whatever its type.</summary>
    public async Task<JsonElement> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestServer.Timeout);
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
        using var cts = new CancellationTokenSource(timeout ?? TestServer.Timeout);
        while (list.Count < count)
        {
            JsonElement frame;
            try
            {
                frame = await _frames.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Only {list.Count} of {count} \"{type}\" frames arrived.");
            }

            if (frame.GetProperty("type").GetString() == type)
            {
                list.Add(frame);
            }
        }

        return list;
    }

    public async Task<WebSocketCloseStatus?> WaitClosedAsync(TimeSpan? timeout = null) =>
        await _closed.Task.WaitAsync(timeout ?? TestServer.Timeout);

    private int _disposed;

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
        }

        _stop.Cancel();
        _ws.Abort();
        try
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception)
        {
        }

        _ws.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }
}
