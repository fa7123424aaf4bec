using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Natter.Server.Common;
using Natter.Server.Delivery;
using Natter.Server.Storage;

namespace Natter.Tests.Unit;

/// <summary>A room log in memory: what delivery reads for sync and gap filling, counting the reads.</summary>
internal sealed class FakeRoomLog : IRoomLogReader
{
    private readonly Dictionary<string, List<StoredEvent>> _rooms = new(StringComparer.Ordinal);

    public int Reads { get; private set; }

    public StoredEvent Add(string room, long seq)
    {
        var m = new StoredEvent(room, seq, EventKind.Message, 1, "amy", 1_700_000_000_000 + seq, $"c{seq}") { Text = $"message {seq}" };
        (_rooms.TryGetValue(room, out var list) ? list : _rooms[room] = []).Add(m);
        return m;
    }

    public ValueTask<IReadOnlyList<StoredEvent>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct)
    {
        Reads++;
        IReadOnlyList<StoredEvent> page = (_rooms.GetValueOrDefault(room) ?? [])
            .Where(m => m.Seq > afterSeq && m.Seq < beforeSeq).OrderBy(m => m.Seq).Take(limit).ToList();
        return ValueTask.FromResult(page);
    }
}

/// <summary>
/// A Connection whose socket is one end of an in-memory pipe; the test reads the other end as a client would.
/// No Kestrel, no store: delivery ordering alone.
/// </summary>
internal sealed class ConnectionUnderTest : IAsyncDisposable
{
    private readonly WebSocket _client;
    private readonly Task _writer;

    public ConnectionUnderTest(IRoomLogReader log, long userId = 1, string username = "amy", int dataLimit = 1000)
    {
        var toClient = new Pipe();
        var toServer = new Pipe();
        var serverSocket = WebSocket.CreateFromStream(new DuplexStream(toServer.Reader.AsStream(), toClient.Writer.AsStream()),
            new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        _client = WebSocket.CreateFromStream(new DuplexStream(toClient.Reader.AsStream(), toServer.Writer.AsStream()),
            new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        Connection = new Connection(serverSocket, null, new Caller(userId, username, 1), log, Metrics.Create(), NullLogger.Instance,
            dataLimit, 256 * 1024, TimeSpan.FromSeconds(2));
        _writer = Connection.RunWriterAsync();
    }

    public Connection Connection { get; }

    /// <summary>The close code the server sent, once the client has read the close frame.</summary>
    public WebSocketCloseStatus? CloseStatus => _client.CloseStatus;

    /// <summary>The next frame the client receives, parsed; fails the test after a few seconds.</summary>
    public async Task<JsonElement> NextAsync()
    {
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var total = 0;
        ValueWebSocketReceiveResult r;
        do
        {
            r = await _client.ReceiveAsync(buffer.AsMemory(total), timeout.Token);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException($"closed with {_client.CloseStatus}");
            }

            total += r.Count;
        }
        while (!r.EndOfMessage);

        using var doc = JsonDocument.Parse(buffer.AsMemory(0, total));
        return doc.RootElement.Clone();
    }

    /// <summary>The seqs of the next n message frames.</summary>
    public async Task<long[]> NextSeqsAsync(int n)
    {
        var seqs = new long[n];
        for (var i = 0; i < n; i++)
        {
            var f = await NextAsync();
            Assert.Equal("message", f.GetProperty("type").GetString());
            seqs[i] = f.GetProperty("seq").GetInt64();
        }

        return seqs;
    }

    /// <summary>Sends a ping marker through the control queue and returns the frames that arrive before its pong.</summary>
    public async Task<List<JsonElement>> DrainAsync()
    {
        var marker = Guid.NewGuid().ToString("N");
        Connection.SendControl(Frames.Pong(marker));
        var frames = new List<JsonElement>();
        while (true)
        {
            var f = await NextAsync();
            if (f.GetProperty("type").GetString() == "pong" && f.GetProperty("ref").GetString() == marker)
            {
                return frames;
            }

            frames.Add(f);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Connection.Abort();
        await _writer.WaitAsync(TimeSpan.FromSeconds(5));
        _client.Dispose();
    }
}
