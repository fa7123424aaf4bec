using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Natter.Server.Common;
using Natter.Server.Storage.MySql;

namespace Natter.ClusterTests;

/// <summary>
/// One user who keeps sending while faults come and go, as a careful client does: a send answered `internal` goes
/// again with the same client_id; a socket the server closes is replaced by a new one that syncs from the last seq
/// it had. Every ack goes into the <see cref="History"/>. A request with no answer at all within the client's
/// timeout (20 s) on a socket that is still open is a zombie, and is reported.
/// </summary>
public sealed class Chatter(string name, string token, INode node, string[] rooms, History history)
{
    private readonly List<ChatClient> _sockets = [];
    private readonly Dictionary<string, History.View> _views = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(long At, string Room)> _acks = new();

    public string Name { get; } = name;
    public INode Node { get; } = node;
    public ConcurrentQueue<string> Problems { get; } = new();
    public ConcurrentQueue<int?> ServerCloses { get; } = new();

    /// <summary>The socket open now.</summary>
    public ChatClient Socket { get; private set; } = null!;

    public IReadOnlyList<ChatClient> Sockets
    {
        get
        {
            lock (_sockets)
            {
                return [.. _sockets];
            }
        }
    }

    /// <summary>Acks in <paramref name="room"/> (any room when null) received between two instants (Stopwatch timestamps).</summary>
    public int AcksBetween(long from, long to, string? room = null) => _acks.Count(a => a.At >= from && a.At <= to && (room is null || a.Room == room));

    public async Task ConnectAsync()
    {
        var previous = _sockets.Count > 0 ? Socket : null;
        var socket = await ChatClient.ConnectAsync(Node, Name, token);
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        Socket = socket;
        if (previous is null)
        {
            foreach (var r in rooms)
            {
                var start = socket.Welcome.GetProperty("rooms").EnumerateArray()
                    .Single(x => x.GetProperty("id").GetString() == r).GetProperty("last_seq").GetInt64();
                _views[r] = history.Watch(Name, r, start);
            }
        }

        foreach (var r in rooms)
        {
            _views[r].Add(socket);
        }

        if (previous is not null)
        {
            // Everything after what the previous socket had, before any live message (the first frame is the sync).
            await socket.SyncAsync(rooms.ToDictionary(r => r, r => _views[r].LastSeq));
        }
    }

    /// <summary>Sends one message after another (every <paramref name="pace"/>) into the rooms in turn until stopped.</summary>
    public async Task RunAsync(TimeSpan pace, CancellationToken stop)
    {
        for (var k = 0; !stop.IsCancellationRequested; k++)
        {
            var room = rooms[k % rooms.Length];
            var clientId = $"{Name}-{k}";
            while (true)
            {
                try
                {
                    var (r, seq) = await Socket.SendAsync(room, $"{Name} says {k}", clientId);
                    history.Acked(r, clientId, seq);
                    _acks.Enqueue((Stopwatch.GetTimestamp(), r));
                    break;
                }
                catch (InvalidOperationException e) when (e.Message.Contains("\"internal\"", StringComparison.Ordinal))
                {
                    // Not stored (or not known to be): the same client_id again, a little later.
                    await Task.Delay(100, CancellationToken.None);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.Net.WebSockets.WebSocketException)
                {
                    if (Socket.IsOpen)
                    {
                        Problems.Enqueue($"{Name}: no answer on an open socket: {e.Message}");
                        return;
                    }

                    ServerCloses.Enqueue((int?)Socket.CloseStatus);
                    await ReconnectAsync(stop);
                }
            }

            await Task.Delay(pace, CancellationToken.None);
        }
    }

    /// <summary>Opens a new socket on the same node, retrying while the node cannot authenticate (its store may be cut off).</summary>
    public async Task ReconnectAsync(CancellationToken stop)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60;
        while (true)
        {
            try
            {
                await ConnectAsync();
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.Net.WebSockets.WebSocketException
                                          && Stopwatch.GetTimestamp() < until)
            {
                await Task.Delay(250, CancellationToken.None);
            }
        }
    }

    /// <summary>Waits until this user's sockets have seen every room up to the seq the history says was acked last.</summary>
    public Task CatchUpAsync(TimeSpan within) =>
        Api.EventuallyAsync(() => Task.FromResult(rooms.All(r => _views[r].LastSeq >= history.LastAcked(r))), within,
            $"{Name} sees every acked message ({string.Join(", ", rooms.Select(r => $"{r}: {_views[r].LastSeq}/{history.LastAcked(r)}"))})");
}

/// <summary>Every log line of Information and above that a node writes, with its event name: fault tests count them.</summary>
public sealed class LogLines : ILoggerProvider
{
    private readonly ConcurrentQueue<(long At, LogLevel Level, string Category, string Event, string Text, bool HasException)> _lines = new();

    public IReadOnlyList<(long At, LogLevel Level, string Category, string Event, string Text, bool HasException)> Since(long at) =>
        _lines.Where(l => l.At >= at).ToArray();

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(LogLines owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._lines.Enqueue((Stopwatch.GetTimestamp(), logLevel, category, eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    formatter(state, exception), exception is not null));
            }
        }
    }
}

/// <summary>What fault tests share: where MariaDB and Redis listen, store timeouts short enough to see a cut within seconds, and a store reader.</summary>
public static class Faults
{
    public static int MySqlPort => (int)new MySqlConnector.MySqlConnectionStringBuilder(Services.MySql).Port;

    public static int RedisPort => int.Parse(Services.Redis.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every node of a fault test runs with these: a statement gives up after 3 s, a lock wait after 1 s, and a
    /// transaction left idle by a node that was cut off is rolled back by the server after 2 s.</summary>
    public static readonly string[] StoreTimeouts =
    [
        "--Natter:Storage:MySqlCommandTimeout=00:00:03",
        "--Natter:Storage:MySqlLockWaitTimeout=00:00:01",
        "--Natter:Storage:MySqlIdleTransactionTimeout=00:00:02",
    ];

    public static string[] ThroughMySqlProxy(ClusterConfig config, FaultProxy proxy) =>
        [.. StoreTimeouts, "--Natter:Storage:MySqlConnectionString=" + proxy.MySql(config.MySql)];

    /// <summary>Every room's stored messages, as the history checker wants them.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<Received>>> StoredAsync(ClusterConfig config, params string[] rooms)
    {
        var store = new MySqlChatStore(Options.Create(new NatterOptions { Storage = { Provider = "mysql", MySqlConnectionString = config.MySql } }),
            TimeProvider.System, NullLogger<MySqlChatStore>.Instance);
        var result = new Dictionary<string, IReadOnlyList<Received>>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            var list = await store.ReadMessagesAsync(room, 0, long.MaxValue, 1_000_000, true, default).WaitAsync(TimeSpan.FromSeconds(20));
            result[room] = list.Select(m => new Received(m.Room, m.Seq, m.From, m.Text, m.ClientId)).ToArray();
        }

        return result;
    }

    /// <summary>What a client believes about each user's presence: the last presence frame after <paramref name="from"/>, else the initial belief.</summary>
    public static bool Believes(ChatClient client, int from, string user, bool initially)
    {
        var frames = client.Presence.Skip(from).Where(p => p.User == user).ToArray();
        return frames.Length == 0 ? initially : frames[^1].Online;
    }

    public static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;
}
