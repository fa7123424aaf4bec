namespace Natter.Client.Tests;

/// <summary>The client library's edits, deletions, reactions and replies against a real server.</summary>
public sealed class ClientEventsTests
{
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    private static async Task<NatterClient> LoggedInAsync(Uri baseUri, string username)
    {
        var client = new NatterClient(baseUri, new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(50) });
        Assert.True(await client.RegisterAsync(username, Password, Ct).WaitAsync(Step, Ct));
        await client.LoginAsync(username, Password, Ct).WaitAsync(Step, Ct);
        return client;
    }

    private static bool SameState(TimelineMessage a, ChatMessage b) =>
        (a.Seq, a.From, a.Text, a.ReplyTo, a.EditedTs, a.Deleted) == (b.Seq, b.From, b.Text, b.ReplyTo, b.EditedTs, b.Deleted)
        && a.Mentions.SequenceEqual(b.Mentions)
        && a.Reactions.Select(r => r.Emoji + ":" + string.Join(',', r.Users)).SequenceEqual(b.Reactions.Select(r => r.Emoji + ":" + string.Join(',', r.Users)));

    [Fact]
    public async Task Edits_deletions_reactions_and_replies_are_acked_raised_as_events_and_kept_by_a_followers_timeline()
    {
        await using var server = await TestServer.StartAsync();
        var amyName = NewName("amy");
        var benName = NewName("ben");
        await using var amy = await LoggedInAsync(server.BaseUri, amyName);
        await using var ben = await LoggedInAsync(server.BaseUri, benName);
        var room = await amy.CreateRoomAsync("events", Ct).WaitAsync(Step, Ct);
        await ben.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);

        var edits = new List<MessageEdit>();
        var deletions = new List<MessageDeletion>();
        var reactions = new List<ReactionChange>();
        ben.MessageEdited += e => { lock (edits) { edits.Add(e); } };
        ben.MessageDeleted += d => { lock (deletions) { deletions.Add(d); } };
        ben.ReactionChanged += r => { lock (reactions) { reactions.Add(r); } };
        var timeline = new RoomTimeline(room.Id);
        using var following = timeline.Follow(ben);
        await amy.ConnectAsync(Ct).WaitAsync(Step, Ct);
        await ben.ConnectAsync(Ct).WaitAsync(Step, Ct);

        var first = await amy.SendAsync(room.Id, $"hello @{benName}", "m1", Ct).WaitAsync(Step, Ct);
        var edit = await amy.EditAsync(room.Id, first.Seq, $"hello @{benName}, edited", "e1", Ct).WaitAsync(Step, Ct);
        var reply = await ben.ReplyAsync(room.Id, first.Seq, "hi amy", "m2", Ct).WaitAsync(Step, Ct);
        var on = await ben.ReactAsync(room.Id, first.Seq, "🎉", clientId: "r1", cancellationToken: Ct).WaitAsync(Step, Ct);
        var unchanged = await ben.ReactAsync(room.Id, first.Seq, "🎉", clientId: "r2", cancellationToken: Ct).WaitAsync(Step, Ct);
        var amysOn = await amy.ReactAsync(room.Id, reply.Seq, "👍", cancellationToken: Ct).WaitAsync(Step, Ct);
        var deleted = await ben.DeleteAsync(room.Id, reply.Seq, "d1", Ct).WaitAsync(Step, Ct);
        var repeated = await amy.EditAsync(room.Id, first.Seq, "ignored: same client_id", "e1", Ct).WaitAsync(Step, Ct);

        Assert.Equal([1L, 2, 3, 4], new[] { first.Seq, edit.Seq!.Value, reply.Seq, on.Seq!.Value });
        Assert.Equal((false, (long?)null), (unchanged.Changed, unchanged.Seq));
        Assert.Equal((5L, 6L), (amysOn.Seq!.Value, deleted.Seq!.Value));
        Assert.Equal((edit.Seq, edit.Ts), (repeated.Seq, repeated.Ts));

        await Wait.UntilAsync(() => ben.LastSeqs.GetValueOrDefault(room.Id) == 6, "ben's cursor at the last event", cancellationToken: Ct);
        lock (edits)
        {
            var e = Assert.Single(edits);
            Assert.Equal((2L, 1L, $"hello @{benName}, edited", amyName), (e.Seq, e.Target, e.Text, e.From));
            Assert.Equal([benName], e.Mentions);
        }

        Assert.Equal((6L, 3L, benName), (deletions.Single().Seq, deletions.Single().Target, deletions.Single().From));
        Assert.Equal([(4L, "🎉", true, benName), (5L, "👍", true, amyName)], reactions.Select(r => (r.Seq, r.Emoji, r.On, r.From)));
        Assert.Equal(0, ben.DuplicatesDropped + ben.GapsSeen);

        // The follower's timeline is what history says now.
        var history = await amy.GetMessagesAsync(room.Id, cancellationToken: Ct).WaitAsync(Step, Ct);
        Assert.Equal(history.Select(m => m.Seq), timeline.Messages.Select(m => m.Seq));
        Assert.All(history, m => Assert.True(SameState(timeline.Find(m.Seq)!, m), $"timeline and history differ at {m.Seq}"));
        Assert.Equal(1, history[1].ReplyTo);
        Assert.True(history[1].Deleted);
        Assert.Equal(["🎉"], history[0].Reactions.Select(r => r.Emoji));

        var around = await amy.GetMessagesAroundAsync(room.Id, 3, 2, Ct).WaitAsync(Step, Ct);
        Assert.Equal([1L, 3], around.Select(m => m.Seq));
        Assert.Equal(1, (await ben.GetRoomsAsync(Ct).WaitAsync(Step, Ct)).Single(r => r.Id == room.Id).MentionCount);

        var refused = await Assert.ThrowsAsync<NatterException>(() => ben.EditAsync(room.Id, first.Seq, "not mine", cancellationToken: Ct).WaitAsync(Step, Ct));
        Assert.Equal("forbidden", refused.Code);
        Assert.Equal("not_found", (await Assert.ThrowsAsync<NatterException>(() => ben.DeleteAsync(room.Id, reply.Seq, cancellationToken: Ct).WaitAsync(Step, Ct))).Code);
        Assert.Equal("bad_request", (await Assert.ThrowsAsync<NatterException>(() => ben.ReactAsync(room.Id, 1, "no spaces", cancellationToken: Ct).WaitAsync(Step, Ct))).Code);
    }

    [Fact]
    public async Task Events_missed_while_the_server_was_away_arrive_once_on_the_reconnects_sync_and_the_timeline_catches_up()
    {
        await using var server = await TestServer.StartAsync();
        var amyName = NewName("amy");
        var benName = NewName("ben");
        await using var amy = await LoggedInAsync(server.BaseUri, amyName);
        await using var ben = await LoggedInAsync(server.BaseUri, benName);
        var room = await amy.CreateRoomAsync("later", Ct).WaitAsync(Step, Ct);
        await ben.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        var timeline = new RoomTimeline(room.Id);
        using var following = timeline.Follow(ben);
        var unknown = new List<UnknownRoomEvent>();
        ben.UnknownEventReceived += unknown.Add;
        await ben.ConnectAsync(Ct).WaitAsync(Step, Ct);
        await amy.PostMessageAsync(room.Id, "before", "m1", Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => timeline.LastSeq == 1, "ben sees the first message", cancellationToken: Ct);

        // While the server restarts, amy (over HTTP, on the new server) edits, reacts, writes and deletes.
        await server.RestartAsync().WaitAsync(TimeSpan.FromSeconds(20), Ct);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        http.DefaultRequestHeaders.Authorization = new("Bearer", amy.Token);
        (await http.PatchAsync($"/api/rooms/{room.Id}/messages/1", System.Net.Http.Json.JsonContent.Create(new { text = "before, edited" }), Ct)).EnsureSuccessStatusCode();
        (await http.PutAsync($"/api/rooms/{room.Id}/messages/1/reactions/%F0%9F%91%8B", null, Ct)).EnsureSuccessStatusCode();
        await amy.PostMessageAsync(room.Id, "gone soon", "m2", Ct).WaitAsync(Step, Ct);
        (await http.DeleteAsync($"/api/rooms/{room.Id}/messages/4", Ct)).EnsureSuccessStatusCode();

        await Wait.UntilAsync(() => ben.LastSeqs.GetValueOrDefault(room.Id) == 5, "ben's cursor catches up after the reconnect", cancellationToken: Ct);
        Assert.Equal(0, ben.DuplicatesDropped + ben.GapsSeen);
        Assert.Empty(unknown);
        Assert.Equal(("before, edited", "👋"), (timeline.Find(1)!.Text, timeline.Find(1)!.Reactions.Single().Emoji));
        Assert.True(timeline.Find(4)!.Deleted);
        Assert.Equal("", timeline.Find(4)!.Text);
    }
}
