using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Natter.ClusterTests;

/// <summary>
/// A protocol v2 socket for the cluster tests: requests wait for the reply with their ref; every room event frame
/// (message, edit, delete, reaction) is recorded per room, in arrival order, duplicates included.
/// </summary>
public sealed class EventClient : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly string[] EventTypes = ["message", "edit", "delete", "reaction"];
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _synced = new();
    private readonly Dictionary<string, List<JsonElement>> _events = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<JsonElement> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiver = Task.CompletedTask;

    private EventClient(string username) => Username = username;

    public string Username { get; }

    public JsonElement Welcome => _welcome.Task.Result;

    public static async Task<EventClient> ConnectAsync(IServerUnderTest node, string username, string token)
    {
        var client = new EventClient(username);
        client._socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        await client._socket.ConnectAsync(new UriBuilder(node.BaseUri) { Scheme = "ws", Path = "/ws" }.Uri, CancellationToken.None).WaitAsync(Timeout);
        client._receiver = Task.Run(client.ReceiveAsync);
        await client._welcome.Task.WaitAsync(Timeout);
        return client;
    }

    public List<JsonElement> Events(string room)
    {
        lock (_gate)
        {
            return _events.TryGetValue(room, out var list) ? [.. list] : [];
        }
    }

    public long LastSeq(string room) => Events(room) is { Count: > 0 } list ? list[^1].GetProperty("seq").GetInt64() : 0;

    /// <summary>Sends a frame with a ref and returns the ack or error that answers it.</summary>
    public async Task<JsonElement> RequestAsync(Dictionary<string, object?> frame)
    {
        var reference = Guid.NewGuid().ToString("N");
        frame["ref"] = reference;
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[reference] = reply;
        await SendAsync(frame);
        return await reply.Task.WaitAsync(Timeout);
    }

    /// <summary>Sends a sync and waits for "synced".</summary>
    public async Task SyncAsync(IReadOnlyDictionary<string, long> rooms)
    {
        var reference = Guid.NewGuid().ToString("N");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _synced[reference] = done;
        await SendAsync(new Dictionary<string, object?> { ["type"] = "sync", ["rooms"] = rooms, ["ref"] = reference });
        await done.Task.WaitAsync(Timeout);
    }

    private async Task SendAsync(Dictionary<string, object?> frame)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame);
        await _sendGate.WaitAsync(Timeout);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(Timeout);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private async Task ReceiveAsync()
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
                if (r.EndOfMessage)
                {
                    Handle(JsonDocument.Parse(frame.ToArray()).RootElement.Clone());
                    frame.SetLength(0);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _welcome.TrySetException(new InvalidOperationException($"{Username}: the socket closed"));
        }
    }

    private void Handle(JsonElement json)
    {
        var type = json.GetProperty("type").GetString()!;
        if (type == "welcome")
        {
            _welcome.TrySetResult(json);
        }
        else if (EventTypes.Contains(type))
        {
            lock (_gate)
            {
                var room = json.GetProperty("room").GetString()!;
                (_events.TryGetValue(room, out var list) ? list : _events[room] = []).Add(json);
            }
        }

        if (json.TryGetProperty("ref", out var r) && r.GetString() is { } reference)
        {
            if (type == "synced" && _synced.TryRemove(reference, out var done))
            {
                done.TrySetResult();
            }
            else if (type is "ack" or "error" && _pending.TryRemove(reference, out var reply))
            {
                reply.TrySetResult(json);
            }
        }
    }

    public async Task WaitForSeqAsync(string room, long seq) =>
        await Wait.UntilAsync(() => LastSeq(room) >= seq, $"{Username} sees {room} up to seq {seq} (has {LastSeq(room)})");

    /// <summary>The room's event frames on this socket are exactly seqs first..last, each once, in order.</summary>
    public void AssertGapless(string room, long first, long last)
    {
        var seqs = Events(room).Select(e => e.GetProperty("seq").GetInt64()).ToArray();
        Assert.True(seqs.SequenceEqual(Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i)),
            $"{Username} in {room}: expected {first}..{last} once each in order, got [{string.Join(",", seqs)}]");
    }

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

/// <summary>Protocol v2 §1 across nodes on one MariaDB and one Redis.</summary>
public sealed class ClusterEventTests : ClusterTest
{
    private T Own<T>(T item) where T : IAsyncDisposable => Cluster.Own(item);

    private Task<TestServer[]> StartNodesAsync(int count) => Cluster.StartNodesAsync(ClusterConfig.Create(), count);

    private static Dictionary<string, object?> Frame(string type, string room, params (string Key, object? Value)[] fields)
    {
        var frame = new Dictionary<string, object?> { ["type"] = type, ["room"] = room, ["client_id"] = Guid.NewGuid().ToString("N") };
        foreach (var (key, value) in fields)
        {
            frame[key] = value;
        }

        return frame;
    }

    private static async Task<JsonElement[]> HistoryAsync(TestServer node, string token, string room)
    {
        using var http = new HttpClient { BaseAddress = node.BaseUri, Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return (await http.GetFromJsonAsync<JsonElement[]>($"/api/rooms/{room}/messages?limit=200"))!;
    }

    [Fact]
    public async Task An_edit_and_a_delete_of_one_message_at_the_same_moment_from_two_nodes_end_in_one_state_everywhere()
    {
        var nodes = await StartNodesAsync(3);
        var annUser = await TestUser.RegisterAsync(nodes[0].BaseUri, "ann");
        var benUser = await TestUser.RegisterAsync(nodes[0].BaseUri, "ben");
        var (ann, ben) = (annUser.Token, benUser.Token);
        var room = await annUser.CreateRoomAsync("race");
        await benUser.At(nodes[1]).JoinAsync(room);

        // Ann writes from node0 and node1; ben watches from node2 and node0.
        var annOn0 = Own(await EventClient.ConnectAsync(nodes[0], "ann", ann));
        var annOn1 = Own(await EventClient.ConnectAsync(nodes[1], "ann", ann));
        var watchers = new[] { annOn0, annOn1, Own(await EventClient.ConnectAsync(nodes[2], "ben", ben)), Own(await EventClient.ConnectAsync(nodes[0], "ben", ben)) };

        const int count = 15;
        for (var i = 1; i <= count; i++)
        {
            Assert.Equal("ack", (await annOn0.RequestAsync(Frame("send", room, ("text", $"original {i}")))).GetProperty("type").GetString());
        }

        foreach (var w in watchers)
        {
            await w.WaitForSeqAsync(room, count);
        }

        // For every message, an edit from node0 and a delete from node1 leave at the same moment.
        var replies = await Task.WhenAll(Enumerable.Range(1, count).SelectMany(i => new[]
        {
            annOn0.RequestAsync(Frame("edit", room, ("target", i), ("text", $"edited {i}"))),
            annOn1.RequestAsync(Frame("delete", room, ("target", i))),
        }));
        var edits = replies.Where((_, k) => k % 2 == 0).ToArray();
        Assert.All(replies.Where((_, k) => k % 2 == 1), d => Assert.Equal("ack", d.GetProperty("type").GetString()));
        Assert.All(edits, e => Assert.True(e.GetProperty("type").GetString() == "ack" || e.GetProperty("code").GetString() == "not_found", e.ToString()));
        var last = count * 2 + edits.Count(e => e.GetProperty("type").GetString() == "ack");

        foreach (var w in watchers)
        {
            await w.WaitForSeqAsync(room, last);
            w.AssertGapless(room, 1, last);
        }

        // Every socket on every node saw the same log, in which each message's deletion is its last word. (An edit
        // a node read from the store to fill a gap may come with its words already gone, so kinds and targets are compared.)
        static string Entry(JsonElement e) => $"{e.GetProperty("seq")} {e.GetProperty("type")} {(e.TryGetProperty("target", out var t) ? t.GetInt64() : 0)}";
        var reference = watchers[0].Events(room).Select(Entry).ToArray();
        Assert.All(watchers.Skip(1), w => Assert.Equal(reference, w.Events(room).Select(Entry)));
        foreach (var target in Enumerable.Range(1, count))
        {
            var about = watchers[0].Events(room).Where(e => e.TryGetProperty("target", out var t) && t.GetInt64() == target).ToArray();
            Assert.Equal("delete", about[^1].GetProperty("type").GetString());
            Assert.True(about.Length <= 2);
        }

        // History on every node agrees: every message is deleted, with its words gone.
        foreach (var node in nodes)
        {
            var history = await HistoryAsync(node, ben, room);
            Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), history.Select(m => m.GetProperty("seq").GetInt64()));
            Assert.All(history, m => Assert.Equal((true, ""), (m.GetProperty("deleted").GetBoolean(), m.GetProperty("text").GetString())));
        }

        // A socket that syncs from 0 on any node replays the same log, with the deleted words gone from it too.
        await using var late = await EventClient.ConnectAsync(nodes[2], "ann", ann);
        await late.SyncAsync(new Dictionary<string, long> { [room] = 0 });
        late.AssertGapless(room, 1, last);
        Assert.All(late.Events(room).Where(e => e.GetProperty("type").GetString() is "message" or "edit"),
            e => Assert.Equal("", e.GetProperty("text").GetString()));
        Cluster.AssertNoServerErrors();
    }

    [Fact]
    public async Task A_reaction_made_on_one_node_while_a_client_of_another_is_offline_reaches_it_once_when_it_reconnects_to_a_third()
    {
        var nodes = await StartNodesAsync(3);
        var annUser = await TestUser.RegisterAsync(nodes[0].BaseUri, "ann");
        var catUser = await TestUser.RegisterAsync(nodes[0].BaseUri, "cat");
        var (ann, cat) = (annUser.Token, catUser.Token);
        var room = await annUser.CreateRoomAsync("news");
        await catUser.At(nodes[2]).JoinAsync(room);

        var annOnA = Own(await EventClient.ConnectAsync(nodes[0], "ann", ann));
        long seen;
        await using (var catOnC = await EventClient.ConnectAsync(nodes[2], "cat", cat))
        {
            await annOnA.RequestAsync(Frame("send", room, ("text", "good news")));
            await catOnC.WaitForSeqAsync(room, 1);
            seen = catOnC.LastSeq(room);
        }

        // While cat is away: a reaction on node A (and an edit, so more than one kind is missed).
        var reaction = await annOnA.RequestAsync(Frame("react", room, ("target", 1), ("emoji", "🎉"), ("on", true)));
        Assert.Equal(2, reaction.GetProperty("seq").GetInt64());
        Assert.Equal(3, (await annOnA.RequestAsync(Frame("edit", room, ("target", 1), ("text", "great news")))).GetProperty("seq").GetInt64());

        var catOnB = Own(await EventClient.ConnectAsync(nodes[1], "cat", cat));
        await catOnB.SyncAsync(new Dictionary<string, long> { [room] = seen });
        catOnB.AssertGapless(room, 2, 3);
        var missed = catOnB.Events(room);
        Assert.Equal(("reaction", "ann", 1L, "🎉", true), (missed[0].GetProperty("type").GetString(), missed[0].GetProperty("from").GetString(),
            missed[0].GetProperty("target").GetInt64(), missed[0].GetProperty("emoji").GetString(), missed[0].GetProperty("on").GetBoolean()));
        Assert.Equal("great news", missed[1].GetProperty("text").GetString());

        // Live events from node A keep coming to node B after the sync, without a gap or a repeat.
        await annOnA.RequestAsync(Frame("react", room, ("target", 1), ("emoji", "🎉"), ("on", false)));
        await catOnB.WaitForSeqAsync(room, 4);
        catOnB.AssertGapless(room, 2, 4);
        var welcomeRoom = catOnB.Welcome.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("id").GetString() == room);
        Assert.Equal(3, welcomeRoom.GetProperty("last_seq").GetInt64());
        Cluster.AssertNoServerErrors();
    }
}
