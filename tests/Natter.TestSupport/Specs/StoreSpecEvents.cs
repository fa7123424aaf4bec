using Natter.Server.Storage;

namespace Natter.TestSupport.Specs;

/// <summary>
/// The room log of protocol v2 §1, as every IChatStore keeps it: messages, edits, deletions and reactions share one
/// gapless seq per room and one client_id space per (room, user); each message's current state changes in the same
/// transaction; the rules that depend on that state are decided inside it.
/// </summary>
public abstract partial class StoreSpec
{
    private const long Ts = 1_700_000_000_000;

    private static NewEvent Edit(string room, long sender, long target, string text, string clientId, params Mention[] mentions) =>
        new(room, sender, "u" + sender, EventKind.Edit, clientId, Ts + 10) { Target = target, Text = text, Mentions = mentions };

    private static NewEvent Delete(string room, long sender, long target, string clientId, bool byAdmin = false) =>
        new(room, sender, "u" + sender, EventKind.Delete, clientId, Ts + 20) { Target = target, ByAdmin = byAdmin };

    private static NewEvent React(string room, long sender, long target, string emoji, bool on, string clientId) =>
        new(room, sender, "u" + sender, EventKind.Reaction, clientId, Ts + 30) { Target = target, Emoji = emoji, On = on };

    private static NewEvent Reply(string room, long sender, long replyTo, string clientId, string text = "re", params Mention[] mentions) =>
        NewEvent.Message(room, sender, "u" + sender, text, clientId, Ts) with { ReplyTo = replyTo, Mentions = mentions };

    private async Task<IReadOnlyList<AppendResult>> AppendAsync(params NewEvent[] batch) =>
        await Store.AppendAsync(batch, default).WaitAsync(Timeout);

    private async Task<MessageState> MessageAsync(string room, long seq) =>
        Assert.Single(await Store.ReadMessagesAsync(room, seq - 1, seq + 1, 1, true, default).WaitAsync(Timeout));

    private async Task<IReadOnlyList<StoredEvent>> LogAsync(string room) =>
        await Store.ReadEventsAsync(room, 0, long.MaxValue, 1000, true, default).WaitAsync(Timeout);

    [Fact]
    public async Task Every_kind_of_event_takes_the_rooms_next_seq_and_the_log_replays_them_as_stored()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("log", alice, default).WaitAsync(Timeout);
        await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout);

        var results = await AppendAsync(
            Msg(room.Id, alice, "m1", "hello @bob") with { Mentions = [new Mention(bob, "bob")] },
            Edit(room.Id, alice, 1, "hello all", "e1"),
            React(room.Id, bob, 1, "👍", true, "r1"),
            Reply(room.Id, bob, 1, "m2", "indeed"),
            React(room.Id, bob, 1, "👍", false, "r2"),
            Delete(room.Id, alice, 4, "d1"));
        Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.Equal([1, 2, 3, 4, 5, 6], results.Select(r => r.Event!.Seq));
        Assert.Equal(6, await Store.GetLastSeqAsync(room.Id, default).WaitAsync(Timeout));

        var log = await LogAsync(room.Id);
        Assert.Equal([EventKind.Message, EventKind.Edit, EventKind.Reaction, EventKind.Message, EventKind.Reaction, EventKind.Delete], log.Select(e => e.Kind));
        Assert.Equal([1, 2, 3, 4, 5, 6], log.Select(e => e.Seq));
        Assert.Equal(("hello @bob", "bob", "alice"), (log[0].Text, string.Join(' ', log[0].Mentions), log[0].From));
        Assert.Equal((1L, "hello all"), (log[1].Target, log[1].Text));
        Assert.Equal(("bob", 1L, "👍", true, "r1"), (log[2].From, log[2].Target, log[2].Emoji, log[2].On, log[2].ClientId));
        Assert.Equal((1L, false), (log[4].Target, log[4].On));
        Assert.Equal(4L, log[5].Target);

        // The deleted reply is replayed with its words gone; everything else as stored.
        Assert.Equal((true, "", 1L), (log[3].Deleted, log[3].Text, log[3].ReplyTo!.Value));
        Assert.False(log[0].Deleted);

        // Newest first for a bounded window, as the cluster bus reads it after a reconnect.
        var newest = await Store.ReadEventsAsync(room.Id, 2, long.MaxValue, 1, false, default).WaitAsync(Timeout);
        Assert.Equal(6, Assert.Single(newest).Seq);
    }

    [Fact]
    public async Task A_repeated_client_id_of_any_kind_is_the_first_event_and_stores_nothing()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("dup", alice, default).WaitAsync(Timeout);
        await AppendAsync(Msg(room.Id, alice, "m1"), Msg(room.Id, alice, "m2"));

        var results = await AppendAsync(
            Edit(room.Id, alice, 1, "first edit", "e1"),
            Edit(room.Id, alice, 1, "same client_id in the batch", "e1"),
            React(room.Id, alice, 2, "🎉", true, "r1"),
            React(room.Id, alice, 2, "🎉", false, "r1"),
            Delete(room.Id, alice, 2, "m1"),                     // a client_id first used by a message
            Delete(room.Id, bob, 2, "m1"));                      // another user's client_ids are their own
        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Duplicate, AppendOutcome.Stored, AppendOutcome.Duplicate, AppendOutcome.Duplicate, AppendOutcome.Forbidden],
            results.Select(r => r.Outcome));
        Assert.Equal([3, 3, 4, 4, 1], results.Take(5).Select(r => r.Event!.Seq));
        Assert.Equal(("first edit", EventKind.Message), (results[1].Event!.Text, results[4].Event!.Kind));

        var later = await AppendAsync(Edit(room.Id, alice, 1, "again, later", "e1"), Delete(room.Id, alice, 1, "d1"), Delete(room.Id, alice, 1, "d1"));
        Assert.Equal([AppendOutcome.Duplicate, AppendOutcome.Stored, AppendOutcome.Duplicate], later.Select(r => r.Outcome));
        Assert.Equal([3, 5, 5], later.Select(r => r.Event!.Seq));

        // A repeat after the message was deleted is still the first edit, now with its words gone.
        var afterDelete = Assert.Single(await AppendAsync(Edit(room.Id, alice, 1, "first edit", "e1")));
        Assert.Equal((AppendOutcome.Duplicate, 3L, ""), (afterDelete.Outcome, afterDelete.Event!.Seq, afterDelete.Event.Text));
        Assert.Equal(5, await Store.GetLastSeqAsync(room.Id, default).WaitAsync(Timeout));
        Assert.Equal([1, 2, 3, 4, 5], (await LogAsync(room.Id)).Select(e => e.Seq));
    }

    [Fact]
    public async Task Edits_deletions_and_reactions_change_the_messages_current_state()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var room = await Store.CreateRoomAsync("state", alice, default).WaitAsync(Timeout);
        await AppendAsync(
            Msg(room.Id, alice, "m1", "draft"),                                      // 1
            React(room.Id, bob, 1, "🎉", true, "r1"),                                // 2
            React(room.Id, carol, 1, "👍", true, "r2"),                              // 3
            React(room.Id, alice, 1, "🎉", true, "r3"),                              // 4
            Edit(room.Id, alice, 1, "final @carol", "e1", new Mention(carol, "carol")), // 5
            Msg(room.Id, bob, "m2", "to be deleted"),                               // 6
            Edit(room.Id, bob, 6, "edited, then deleted", "e2"),                    // 7
            React(room.Id, alice, 6, "👀", true, "r4"),                              // 8
            Delete(room.Id, bob, 6, "d1"),                                           // 9
            Reply(room.Id, carol, 1, "m3"));                                         // 10

        var messages = await Store.ReadMessagesAsync(room.Id, 0, long.MaxValue, 10, true, default).WaitAsync(Timeout);
        Assert.Equal([1, 6, 10], messages.Select(m => m.Seq));
        var first = messages[0];
        Assert.Equal(("final @carol", "carol", Ts + 10), (first.Text, string.Join(' ', first.Mentions), first.EditedTs!.Value));
        Assert.Equal(["🎉", "👍"], first.Reactions.Select(r => r.Emoji));
        Assert.Equal(["bob", "alice"], first.Reactions[0].Users);
        Assert.Equal(["carol"], first.Reactions[1].Users);

        var deleted = messages[1];
        Assert.Equal((true, "", 0, 0), (deleted.Deleted, deleted.Text, deleted.Mentions.Count, deleted.Reactions.Count));
        Assert.Equal((1L, false, (long?)null), (messages[2].ReplyTo!.Value, messages[2].Deleted, messages[2].EditedTs));

        // Taking back every reaction of an emoji takes it off; added again, it is the newest.
        await AppendAsync(React(room.Id, bob, 1, "🎉", false, "r5"), React(room.Id, alice, 1, "🎉", false, "r6"), React(room.Id, bob, 1, "🎉", true, "r7"));
        Assert.Equal(["👍", "🎉"], (await MessageAsync(room.Id, 1)).Reactions.Select(r => r.Emoji));

        // The log keeps each event as sent, except what the deleted message said.
        var log = await LogAsync(room.Id);
        Assert.Equal(("draft", "final @carol"), (log[0].Text, log[4].Text));
        Assert.Equal(("", ""), (log[5].Text, log[6].Text));
    }

    [Fact]
    public async Task The_rules_refuse_what_the_room_log_does_not_allow_and_a_refusal_takes_no_seq()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("rules", alice, default).WaitAsync(Timeout);    // alice owns it
        var direct = (await Store.GetOrCreateDirectRoomAsync(alice, bob, default).WaitAsync(Timeout)).Room;
        await AppendAsync(Msg(room.Id, bob, "m1"), React(room.Id, alice, 1, "👍", true, "r1"), Msg(direct.Id, alice, "dm1"));

        var results = await AppendAsync(
            Edit(room.Id, alice, 1, "not hers", "e1"),                 // Forbidden: not the author
            Edit(room.Id, bob, 2, "a reaction", "e2"),                 // NotFound: not a message
            Edit(room.Id, bob, 99, "nothing", "e3"),                   // NotFound
            Reply(room.Id, bob, 2, "m2"),                              // NotFound: reply to a reaction
            Reply(room.Id, bob, 7, "m3"),                              // NotFound: reply to nothing
            React(room.Id, bob, 99, "👍", true, "r2"),                  // NotFound
            React(room.Id, alice, 1, "👍", true, "r3"),                 // Unchanged: already on
            React(room.Id, bob, 1, "👍", false, "r4"),                  // Unchanged: bob's is off
            Delete(direct.Id, bob, 1, "d1"),                           // Forbidden: a direct room has no owner
            Delete(room.Id, alice, 1, "d2"),                           // Stored: the owner
            Delete(room.Id, bob, 1, "d3"),                             // NotFound: deleted already
            Edit(room.Id, bob, 1, "too late", "e4"),                   // NotFound: deleted
            React(room.Id, alice, 1, "👍", false, "r5"),                // NotFound: deleted
            Reply(room.Id, alice, 1, "m4"),                            // NotFound: reply to a deleted message
            Delete(direct.Id, bob, 1, "d4", byAdmin: true));           // Stored: an admin
        Assert.Equal(
        [
            AppendOutcome.Forbidden, AppendOutcome.NotFound, AppendOutcome.NotFound, AppendOutcome.NotFound, AppendOutcome.NotFound,
            AppendOutcome.NotFound, AppendOutcome.Unchanged, AppendOutcome.Unchanged, AppendOutcome.Forbidden, AppendOutcome.Stored,
            AppendOutcome.NotFound, AppendOutcome.NotFound, AppendOutcome.NotFound, AppendOutcome.NotFound, AppendOutcome.Stored,
        ], results.Select(r => r.Outcome));
        Assert.Equal(3, results[9].Event!.Seq);
        Assert.Equal(2, results[14].Event!.Seq);
        Assert.Equal(3, await Store.GetLastSeqAsync(room.Id, default).WaitAsync(Timeout));

        // Refused and unchanged events left no client_id behind: sent again once allowed, they are stored.
        await AppendAsync(Msg(room.Id, bob, "m5"));                                                     // 4
        Assert.Equal(AppendOutcome.Stored, Assert.Single(await AppendAsync(React(room.Id, alice, 4, "👍", true, "r3"))).Outcome);
    }

    [Fact]
    public async Task A_message_takes_at_most_twenty_distinct_emoji()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("emoji", alice, default).WaitAsync(Timeout);
        await AppendAsync(Msg(room.Id, alice, "m1"));
        var twenty = Enumerable.Range(1, 20).Select(i => React(room.Id, alice, 1, $":e{i}:", true, $"r{i}")).ToArray();
        Assert.All(await AppendAsync(twenty), r => Assert.Equal(AppendOutcome.Stored, r.Outcome));

        var more = await AppendAsync(
            React(room.Id, bob, 1, ":e21:", true, "b1"),              // Limit: a 21st emoji
            React(room.Id, bob, 1, ":e5:", true, "b2"),               // Stored: an emoji already on
            React(room.Id, alice, 1, ":e1:", false, "a1"),            // Stored: now 19
            React(room.Id, bob, 1, ":e21:", true, "b3"),              // Stored: the 20th
            React(room.Id, bob, 1, ":e22:", true, "b4"));             // Limit again
        Assert.Equal([AppendOutcome.Limit, AppendOutcome.Stored, AppendOutcome.Stored, AppendOutcome.Stored, AppendOutcome.Limit], more.Select(r => r.Outcome));
        Assert.Equal(20, (await MessageAsync(room.Id, 1)).Reactions.Count);
        Assert.Equal(24, await Store.GetLastSeqAsync(room.Id, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Mention_counts_follow_edits_deletions_and_the_read_marker()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("mentions", alice, default).WaitAsync(Timeout);
        await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout);
        var atBob = new Mention(bob, "bob");
        await AppendAsync(
            Msg(room.Id, alice, "m1", "@bob one") with { Mentions = [atBob] },      // 1
            Msg(room.Id, alice, "m2", "@bob two") with { Mentions = [atBob] },      // 2
            Msg(room.Id, alice, "m3", "three"),                                     // 3
            Edit(room.Id, alice, 3, "@bob three", "e1", atBob),                     // 4
            Msg(room.Id, alice, "m4", "@bob four") with { Mentions = [atBob] });    // 5

        async Task<int> CountAsync() => (await Store.ListRoomsOfUserAsync(bob, default).WaitAsync(Timeout)).Single().MentionCount;
        Assert.Equal(4, await CountAsync());
        Assert.Equal(0, (await Store.ListRoomsOfUserAsync(alice, default).WaitAsync(Timeout)).Single().MentionCount);

        await AppendAsync(Edit(room.Id, alice, 1, "one", "e2"), Delete(room.Id, alice, 2, "d1"));
        Assert.Equal(2, await CountAsync());
        await Store.MarkReadAsync(room.Id, bob, 4, default).WaitAsync(Timeout);
        Assert.Equal(1, await CountAsync());

        Assert.Equal(["alice", "bob"], (await Store.FindUsersAsync(["bob", "nobody", "alice"], default).WaitAsync(Timeout)).Select(u => u.Username).Order());
        Assert.Empty(await Store.FindUsersAsync([], default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task An_edit_and_a_delete_of_one_message_from_two_stores_at_once_end_in_one_state()
    {
        var alice = await UserAsync("alice");
        var room = await Store.CreateRoomAsync("race", alice, default).WaitAsync(Timeout);
        var second = await NewStoreAsync();
        var messages = Enumerable.Range(1, 20).Select(i => Msg(room.Id, alice, "m" + i, "original " + i)).ToArray();
        await AppendAsync(messages);

        // For each message, one store edits it while the other deletes it.
        var edits = Task.Run(() => Store.AppendAsync([.. Enumerable.Range(1, 20).Select(i => Edit(room.Id, alice, i, "edited " + i, "e" + i))], default));
        var deletes = Task.Run(() => second.AppendAsync([.. Enumerable.Range(1, 20).Select(i => Delete(room.Id, alice, i, "d" + i))], default));
        var (edited, deleted) = (await edits.WaitAsync(Timeout), await deletes.WaitAsync(Timeout));
        Assert.All(deleted, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.All(edited, r => Assert.True(r.Outcome is AppendOutcome.Stored or AppendOutcome.NotFound, r.Outcome.ToString()));

        var log = await LogAsync(room.Id);
        Assert.Equal(Enumerable.Range(1, 20 + 20 + edited.Count(r => r.Outcome == AppendOutcome.Stored)).Select(i => (long)i), log.Select(e => e.Seq));
        foreach (var m in await Store.ReadMessagesAsync(room.Id, 0, long.MaxValue, 100, true, default).WaitAsync(Timeout))
        {
            Assert.Equal((true, ""), (m.Deleted, m.Text));

            // Whichever came first, no edit of a deleted message keeps its words, and none follows its deletion.
            var deletion = log.Single(e => e.Kind == EventKind.Delete && e.Target == m.Seq).Seq;
            Assert.All(log.Where(e => e.Kind == EventKind.Edit && e.Target == m.Seq), e => Assert.True(e.Seq < deletion && e.Text.Length == 0));
        }

        if (second is IAsyncDisposable d)
        {
            await d.DisposeAsync();
        }
    }
}
