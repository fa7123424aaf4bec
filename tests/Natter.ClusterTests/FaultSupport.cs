using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Natter.Server.Common;
using Natter.Server.Storage.MySql;

namespace Natter.ClusterTests;

/// <summary>
/// One user who keeps sending while faults come and go, as a careful client does: a send answered `internal` goes
/// again with the same client_id; a socket the server closes is replaced by a new one that syncs from the last seq
/// it had. Every ack goes into the <see cref="History"/>. A request with no answer at all within the client's
/// timeout on a socket that is still open is a zombie, and is reported.
/// </summary>
public sealed class Chatter(TestUser user, IServerUnderTest node, string[] rooms, History history)
{
    private readonly List<TestSocket> _sockets = [];
    private readonly Dictionary<string, History.View> _views = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(long At, string Room)> _acks = new();

    public string Name => user.Username;
    public IServerUnderTest Node { get; } = node;
    public ConcurrentQueue<string> Problems { get; } = new();
    public ConcurrentQueue<int?> ServerCloses { get; } = new();

    /// <summary>The socket open now.</summary>
    public TestSocket Socket { get; private set; } = null!;

    public IReadOnlyList<TestSocket> Sockets
    {
        get
        {
            lock (_sockets)
            {
                return [.. _sockets];
            }
        }
    }

    public static bool IsOpen(TestSocket socket) => socket.Raw.State == WebSocketState.Open && !socket.Closed.IsCompleted;

    /// <summary>Sends a ping and waits for its pong: a socket that answers is not a zombie.</summary>
    public static Task PingAsync(TestSocket socket, TimeSpan within) => socket.RequestAsync(new { type = "ping" }).WaitAsync(within);

    /// <summary>Acks in <paramref name="room"/> (any room when null) received between two instants (Stopwatch timestamps).</summary>
    public int AcksBetween(long from, long to, string? room = null) => _acks.Count(a => a.At >= from && a.At <= to && (room is null || a.Room == room));

    public async Task ConnectAsync()
    {
        var previous = _sockets.Count > 0 ? Socket : null;
        var socket = await TestSocket.ConnectAsync(new Uri(Node.BaseUri, "/ws"), user.Token, name: Name);
        JsonWelcome welcome;
        try
        {
            welcome = new JsonWelcome(await socket.WelcomeAsync());
        }
        catch
        {
            await socket.DisposeAsync();
            throw;
        }

        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        Socket = socket;
        if (previous is null)
        {
            foreach (var r in rooms)
            {
                _views[r] = history.Watch(Name, r, welcome.LastSeq(r));
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

    private readonly record struct JsonWelcome(System.Text.Json.JsonElement Frame)
    {
        public long LastSeq(string room) => Frame.GetProperty("rooms").EnumerateArray()
            .Single(x => x.GetProperty("id").GetString() == room).GetProperty("last_seq").GetInt64();
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
                    var (r, seq) = await Socket.SendMessageAsync(room, $"{Name} says {k}", clientId);
                    history.Acked(r, clientId, seq);
                    _acks.Enqueue((Stopwatch.GetTimestamp(), r));
                    break;
                }
                catch (InvalidOperationException e) when (e.Message.Contains("\"internal\"", StringComparison.Ordinal))
                {
                    // Not stored (or not known to be): the same client_id again, a little later.
                    await Task.Delay(100, CancellationToken.None);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or WebSocketException)
                {
                    if (IsOpen(Socket))
                    {
                        Problems.Enqueue($"{Name}: no answer on an open socket: {e.Message}");
                        return;
                    }

                    ServerCloses.Enqueue((int?)Socket.Raw.CloseStatus);
                    await ReconnectAsync();
                }
            }

            await Task.Delay(pace, CancellationToken.None);
        }
    }

    /// <summary>Opens a new socket on the same node, retrying while the node cannot authenticate (its store may be cut off).</summary>
    public async Task ReconnectAsync()
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60;
        while (true)
        {
            try
            {
                await ConnectAsync();
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or WebSocketException
                                          && Stopwatch.GetTimestamp() < until)
            {
                await Task.Delay(250, CancellationToken.None);
            }
        }
    }

    /// <summary>Waits until this user's sockets have seen every room up to the seq the history says was acked last.</summary>
    public Task CatchUpAsync(TimeSpan within) =>
        Wait.UntilAsync(() => rooms.All(r => _views[r].LastSeq >= history.LastAcked(r)),
            $"{Name} sees every acked message ({string.Join(", ", rooms.Select(r => $"{r}: {_views[r].LastSeq}/{history.LastAcked(r)}"))})", within);

    /// <summary>Closes every socket this user opened.</summary>
    public async Task CloseAsync()
    {
        foreach (var s in Sockets)
        {
            await s.DisposeAsync();
        }
    }
}

/// <summary>What fault tests share: where MariaDB and Redis listen, store timeouts short enough to see a cut within seconds, and a store reader.</summary>
public static class Faults
{
    public static int MySqlPort => (int)new MySqlConnector.MySqlConnectionStringBuilder(TestServices.MySql).Port;

    public static int RedisPort => int.Parse(TestServices.Redis.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every node of a fault test runs with these: a statement gives up after 3 s, a lock wait after 1 s, and a
    /// transaction left idle by a node that was cut off is rolled back by the server after 2 s.</summary>
    public static readonly string[] StoreTimeouts =
    [
        "Natter:Storage:MySqlCommandTimeout=00:00:03",
        "Natter:Storage:MySqlLockWaitTimeout=00:00:01",
        "Natter:Storage:MySqlIdleTransactionTimeout=00:00:02",
    ];

    public static string[] ThroughMySqlProxy(ClusterConfig config, FaultProxy proxy) =>
        [.. StoreTimeouts, "Natter:Storage:MySqlConnectionString=" + proxy.MySql(config.MySql)];

    public static string ThroughRedisProxy(FaultProxy proxy) => "Natter:Bus:RedisConnectionString=" + proxy.Redis;

    /// <summary>Every room's stored messages, as the history checker wants them.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<ReceivedMessage>>> StoredAsync(ClusterConfig config, params string[] rooms)
    {
        var store = new MySqlChatStore(Options.Create(new NatterOptions { Storage = { Provider = "mysql", MySqlConnectionString = config.MySql } }),
            TimeProvider.System, NullLogger<MySqlChatStore>.Instance);
        var result = new Dictionary<string, IReadOnlyList<ReceivedMessage>>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            var list = await store.ReadMessagesAsync(room, 0, long.MaxValue, 1_000_000, true, default).WaitAsync(TimeSpan.FromSeconds(20));
            result[room] = list.Select(m => new ReceivedMessage(m.Room, m.Seq, m.From, m.Text, m.ClientId)).ToArray();
        }

        return result;
    }

    /// <summary>What a client believes about each user's presence: the last presence frame after <paramref name="from"/>, else the initial belief.</summary>
    public static bool Believes(TestSocket client, int from, string user, bool initially)
    {
        var frames = client.Presence.Skip(from).Where(p => p.User == user).ToArray();
        return frames.Length == 0 ? initially : frames[^1].Online;
    }

    public static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;
}
