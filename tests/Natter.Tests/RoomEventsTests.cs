using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// Protocol v2 §1: messages, edits, deletions and reactions are events of one room log. Each takes the room's next
/// seq, reaches members live and on sync exactly once, and changes the message history lists.
/// </summary>
public sealed class RoomEventsTests
{
    private static async Task<(TestServer Server, TestUser Amy, TestUser Ben, string Room)> RoomOfTwoAsync(params string[] settings)
    {
        var server = await TestServer.StartAsync(settings);
        var (amy, ben, room) = await RoomOfTwo.CreateAsync(server, "amy", "ben", "events");
        return (server, amy, ben, room);
    }

    private static long Seq(JsonElement frame) => frame.GetProperty("seq").GetInt64();

    private static string Type(JsonElement frame) => frame.GetProperty("type").GetString()!;

    [Fact]
    public async Task Every_kind_of_event_reaches_members_live_and_takes_the_rooms_next_seq()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var a = await EventSocket.ConnectAsync(amy);
        var b = await EventSocket.ConnectAsync(ben);

        Assert.Equal(1, Seq(await a.AckAsync(EventSocket.Send(room, $"hi @{ben.Username}!"))));
        Assert.Equal(2, Seq(await a.AckAsync(EventSocket.Edit(room, 1, "hi all"))));
        Assert.Equal(3, Seq(await b.AckAsync(EventSocket.React(room, 1, "👍"))));
        Assert.Equal(4, Seq(await a.AckAsync(EventSocket.Send(room, "see above", replyTo: 1))));
        Assert.Equal(5, Seq(await b.AckAsync(EventSocket.React(room, 1, "👍", on: false))));
        Assert.Equal(6, Seq(await a.AckAsync(EventSocket.Delete(room, 1))));

        foreach (var socket in new[] { a, b })
        {
            var events = await socket.EventsAsync(6);
            Assert.Equal(["message", "edit", "reaction", "message", "reaction", "delete"], events.Select(Type));
            Assert.Equal([1, 2, 3, 4, 5, 6], events.Select(Seq));
            Assert.All(events, e => Assert.Equal(room, e.GetProperty("room").GetString()));

            var message = events[0];
            Assert.Equal(amy.Username, message.GetProperty("from").GetString());
            Assert.Equal($"hi @{ben.Username}!", message.GetProperty("text").GetString());
            Assert.Equal([ben.Username], message.GetProperty("mentions").Strings());
            Assert.Equal(JsonValueKind.Null, message.GetProperty("reply_to").ValueKind);
            Assert.Empty(message.GetProperty("files").EnumerateArray());

            var edit = events[1];
            Assert.Equal((1L, "hi all"), (edit.GetProperty("target").GetInt64(), edit.GetProperty("text").GetString()));
            Assert.Empty(edit.GetProperty("mentions").EnumerateArray());
            Assert.True(edit.GetProperty("ts").GetInt64() > 0);

            var reaction = events[2];
            Assert.Equal((ben.Username, 1L, "👍", true),
                (reaction.GetProperty("from").GetString(), reaction.GetProperty("target").GetInt64(), reaction.GetProperty("emoji").GetString(), reaction.GetProperty("on").GetBoolean()));
            Assert.Equal(1, events[3].GetProperty("reply_to").GetInt64());
            Assert.False(events[4].GetProperty("on").GetBoolean());
            Assert.Equal((amy.Username, 1L), (events[5].GetProperty("from").GetString(), events[5].GetProperty("target").GetInt64()));
        }

        var rooms = await ben.RoomsAsync();
        Assert.Equal(6, rooms[room].GetProperty("last_seq").GetInt64());
    }

    [Fact]
    public async Task A_member_who_missed_events_gets_every_kind_once_and_gapless_on_sync_with_a_deleted_messages_words_gone()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var a = await EventSocket.ConnectAsync(amy);

        // Ben saw seq 1 live, then went away.
        var b = await EventSocket.ConnectAsync(ben);
        await a.AckAsync(EventSocket.Send(room, "before the gap"));
        Assert.Equal([1], (await b.EventsAsync(1)).Select(Seq));
        await b.Socket.DisposeAsync();

        await a.AckAsync(EventSocket.Send(room, $"secret for @{ben.Username}"));           // 2
        await a.AckAsync(EventSocket.Send(room, "a reply", replyTo: 2));                     // 3
        await a.AckAsync(EventSocket.Edit(room, 2, $"still secret, @{ben.Username}"));     // 4
        await a.AckAsync(EventSocket.React(room, 3, ":tada:"));                             // 5
        await a.AckAsync(EventSocket.Delete(room, 2));                                       // 6
        await a.AckAsync(EventSocket.React(room, 3, ":tada:", on: false));                  // 7

        var back = new EventSocket(await ben.ConnectAsync());
        await back.Socket.NextAsync("welcome");
        await back.Socket.SendAsync(new { type = "sync", rooms = new Dictionary<string, long> { [room] = 1 }, @ref = "s" });
        var replayed = await back.UntilAsync("synced");
        var events = replayed.Where(f => EventSocket.EventTypes.Contains(Type(f))).ToList();
        Assert.Equal([2, 3, 4, 5, 6, 7], events.Select(Seq));
        Assert.Equal(["message", "message", "edit", "reaction", "delete", "reaction"], events.Select(Type));

        // The deleted message and its edit are replayed with their words gone.
        var deleted = events[0];
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.Equal("", deleted.GetProperty("text").GetString());
        Assert.Empty(deleted.GetProperty("mentions").EnumerateArray());
        Assert.Empty(deleted.GetProperty("files").EnumerateArray());
        Assert.Equal("", events[2].GetProperty("text").GetString());
        Assert.Empty(events[2].GetProperty("mentions").EnumerateArray());
        Assert.Empty(events[2].GetProperty("files").EnumerateArray());

        // Everything else is as stored: the reply's original text and its reply_to, the reaction frames.
        Assert.Equal(("a reply", 2L), (events[1].GetProperty("text").GetString(), events[1].GetProperty("reply_to").GetInt64()));
        Assert.False(events[1].TryGetProperty("deleted", out var notDeleted) && notDeleted.GetBoolean());
        Assert.Equal((3L, ":tada:", true), (events[3].GetProperty("target").GetInt64(), events[3].GetProperty("emoji").GetString(), events[3].GetProperty("on").GetBoolean()));

        // Live events continue after the sync without a gap.
        await a.AckAsync(EventSocket.Edit(room, 3, "a reply, edited"));
        Assert.Equal([8], (await back.EventsAsync(1)).Select(Seq));
    }

    [Fact]
    public async Task A_repeated_client_id_gets_the_first_ack_again_and_stores_nothing_for_every_kind_over_the_socket()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var a = await EventSocket.ConnectAsync(amy);
        var b = await EventSocket.ConnectAsync(ben);
        await a.AckAsync(EventSocket.Send(room, "one"));

        foreach (var (socket, frame) in new[]
        {
            (a, EventSocket.Edit(room, 1, "one, edited", "edit-1")),
            (b, EventSocket.React(room, 1, "🎉", clientId: "react-1")),
            (a, EventSocket.Delete(room, 1, "delete-1")),
        })
        {
            var first = await socket.AckAsync(new Dictionary<string, object?>(frame));
            var again = await socket.AckAsync(new Dictionary<string, object?>(frame));
            Assert.Equal((Seq(first), first.GetProperty("ts").GetInt64(), first.GetProperty("client_id").GetString()),
                (Seq(again), again.GetProperty("ts").GetInt64(), again.GetProperty("client_id").GetString()));
        }

        // A repeat of the edit after the delete is still its first ack, not a refusal: it is a repeat, not a new edit.
        Assert.Equal(2, Seq(await a.AckAsync(EventSocket.Edit(room, 1, "one, edited", "edit-1"))));
        Assert.Equal([1, 2, 3, 4], (await b.EventsAsync(4)).Select(Seq));
        Assert.Equal(5, Seq(await a.AckAsync(EventSocket.Send(room, "next"))));
    }

    [Fact]
    public async Task Edit_delete_and_reactions_over_http_are_idempotent_by_client_id_and_answer_with_the_event()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var sent = await (await amy.SendAsync(room, new { text = "hello", client_id = "m1" })).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, sent.GetProperty("reply_to").ValueKind);
        Assert.Equal((false, JsonValueKind.Null), (sent.GetProperty("deleted").GetBoolean(), sent.GetProperty("edited_ts").ValueKind));

        var edit = await (await amy.EditAsync(room, 1, new { text = " hello, world ", client_id = "e1" })).JsonAsync();
        Assert.Equal(("edit", "edit", 2L, 1L, "hello, world"), (edit.GetProperty("kind").GetString(), edit.GetProperty("type").GetString(), Seq(edit),
            edit.GetProperty("target").GetInt64(), edit.GetProperty("text").GetString()));
        var editAgain = await (await amy.EditAsync(room, 1, new { text = "something else", client_id = "e1" })).JsonAsync();
        Assert.Equal((2L, "hello, world"), (Seq(editAgain), editAgain.GetProperty("text").GetString()));

        var on = await (await ben.ReactAsync(room, 1, "👍", on: true, "r1")).JsonAsync();
        Assert.Equal(("reaction", 3L, "👍", true), (on.GetProperty("kind").GetString(), Seq(on), on.GetProperty("emoji").GetString(), on.GetProperty("on").GetBoolean()));
        Assert.Equal(3, Seq(await (await ben.ReactAsync(room, 1, "👍", on: true, "r1")).JsonAsync()));

        // A new client_id for a change that changes nothing stores nothing: {"seq": null}. So does no client_id at all.
        Assert.Equal(JsonValueKind.Null, (await (await ben.ReactAsync(room, 1, "👍", on: true, "r2")).JsonAsync()).GetProperty("seq").ValueKind);
        Assert.Equal(JsonValueKind.Null, (await (await ben.ReactAsync(room, 1, "👍", on: true)).JsonAsync()).GetProperty("seq").ValueKind);
        Assert.Equal(JsonValueKind.Null, (await (await ben.ReactAsync(room, 1, "🎉", on: false)).JsonAsync()).GetProperty("seq").ValueKind);
        Assert.Equal(4, Seq(await (await ben.ReactAsync(room, 1, "👍", on: false)).JsonAsync()));

        var delete = await (await amy.DeleteMessageAsync(room, 1, "d1")).JsonAsync();
        Assert.Equal(("delete", 5L, 1L), (delete.GetProperty("kind").GetString(), Seq(delete), delete.GetProperty("target").GetInt64()));
        Assert.Equal(5, Seq(await (await amy.DeleteMessageAsync(room, 1, "d1")).JsonAsync()));
        await Problem.AssertAsync(await amy.DeleteMessageAsync(room, 1, "d2"), HttpStatusCode.NotFound);

        // The repeated send answers with the message as it is now.
        var repeated = await (await amy.SendAsync(room, new { text = "hello", client_id = "m1" })).JsonAsync();
        Assert.Equal((1L, true, ""), (Seq(repeated), repeated.GetProperty("deleted").GetBoolean(), repeated.GetProperty("text").GetString()));
        Assert.Equal(5, (await amy.RoomsAsync())[room].GetProperty("last_seq").GetInt64());
    }

    [Fact]
    public async Task History_lists_each_message_in_its_current_state_with_reactions_in_first_use_order()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var cat = await server.UserAsync("cat");
        await cat.JoinAsync(room);
        var a = await EventSocket.ConnectAsync(amy);
        await a.AckAsync(EventSocket.Send(room, "first"));                                   // 1
        await a.AckAsync(EventSocket.Send(room, "second", replyTo: 1));                      // 2
        await (await ben.ReactAsync(room, 1, "🎉", on: true)).JsonAsync();                   // 3
        await (await cat.ReactAsync(room, 1, "👍", on: true)).JsonAsync();                   // 4
        await (await amy.ReactAsync(room, 1, "🎉", on: true)).JsonAsync();                   // 5
        await (await ben.ReactAsync(room, 1, "👍", on: true)).JsonAsync();                   // 6
        var edit = await a.AckAsync(EventSocket.Edit(room, 1, $"first, for @{cat.Username}"));   // 7
        await a.AckAsync(EventSocket.Send(room, "third"));                                   // 8
        await (await ben.ReactAsync(room, 8, "👀", on: true)).JsonAsync();                   // 9
        await a.AckAsync(EventSocket.Delete(room, 8));                                       // 10

        var history = await amy.HistoryAsync(room);
        Assert.Equal([1, 2, 8], history.Select(Seq));
        var first = history[0];
        Assert.Equal($"first, for @{cat.Username}", first.GetProperty("text").GetString());
        Assert.Equal([cat.Username], first.GetProperty("mentions").Strings());
        Assert.Equal(edit.GetProperty("ts").GetInt64(), first.GetProperty("edited_ts").GetInt64());
        var reactions = first.GetProperty("reactions").EnumerateArray().ToArray();
        Assert.Equal(["🎉", "👍"], reactions.Select(r => r.GetProperty("emoji").GetString()));
        Assert.Equal([ben.Username, amy.Username], reactions[0].GetProperty("users").Strings());
        Assert.Equal([cat.Username, ben.Username], reactions[1].GetProperty("users").Strings());

        Assert.Equal(1, history[1].GetProperty("reply_to").GetInt64());
        Assert.Equal(JsonValueKind.Null, history[1].GetProperty("edited_ts").ValueKind);
        Assert.Empty(history[1].GetProperty("reactions").EnumerateArray());

        var deleted = history[2];
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.Equal("", deleted.GetProperty("text").GetString());
        Assert.Empty(deleted.GetProperty("files").EnumerateArray());
        Assert.Empty(deleted.GetProperty("reactions").EnumerateArray());

        // An emoji whose every reaction was taken back loses its place: added again, it comes last.
        await (await ben.ReactAsync(room, 1, "🎉", on: false)).JsonAsync();
        await (await amy.ReactAsync(room, 1, "🎉", on: false)).JsonAsync();
        await (await amy.ReactAsync(room, 1, "🎉", on: true)).JsonAsync();
        Assert.Equal(["👍", "🎉"], (await amy.MessageAsync(room, 1)).GetProperty("reactions").EnumerateArray().Select(r => r.GetProperty("emoji").GetString()));

        // limit counts messages only.
        Assert.Equal([2, 8], (await amy.HistoryAsync(room, "?limit=2")).Select(Seq));
        Assert.Equal([1, 2], (await amy.HistoryAsync(room, "?after=0&limit=2")).Select(Seq));
    }

    [Fact]
    public async Task Around_returns_the_messages_nearest_a_seq_half_below_and_fills_up_at_either_end()
    {
        var (server, amy, _, room) = await RoomOfTwoAsync();
        await using var __ = server;
        var a = await EventSocket.ConnectAsync(amy);
        for (var i = 1; i <= 10; i++)
        {
            await a.AckAsync(EventSocket.Send(room, $"m{i}"));                              // 1..10
        }

        await a.AckAsync(EventSocket.React(room, 5, "👍"));                                 // 11
        await a.AckAsync(EventSocket.Send(room, "m12"));                                    // 12

        Assert.Equal([3, 4, 5, 6], (await amy.HistoryAsync(room, "?around=5&limit=4")).Select(Seq));
        Assert.Equal([3, 4, 5, 6, 7], (await amy.HistoryAsync(room, "?around=5&limit=5")).Select(Seq));
        Assert.Equal([1, 2, 3, 4], (await amy.HistoryAsync(room, "?around=1&limit=4")).Select(Seq));
        Assert.Equal([1, 2, 3, 4], (await amy.HistoryAsync(room, "?around=2&limit=4")).Select(Seq));
        Assert.Equal([8, 9, 10, 12], (await amy.HistoryAsync(room, "?around=12&limit=4")).Select(Seq));
        Assert.Equal([9, 10, 12], (await amy.HistoryAsync(room, "?around=11&limit=3")).Select(Seq));    // 11 is a reaction
        Assert.Equal([9, 10, 12], (await amy.HistoryAsync(room, "?around=500&limit=3")).Select(Seq));
        Assert.Equal(11, (await amy.HistoryAsync(room, "?around=6")).Length);

        using var http = amy.Http();
        foreach (var query in new[] { "?around=5&before=9", "?around=5&after=1", "?around=0", "?around=-3", "?around=x" })
        {
            await Problem.AssertAsync(await http.GetAsync($"/api/rooms/{room}/messages{query}"), HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task Mentions_are_members_named_after_an_at_sign_each_once_in_order_and_counted_until_read()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var outsider = await server.UserAsync("out");
        var a = await EventSocket.ConnectAsync(amy);
        var b = await EventSocket.ConnectAsync(ben);
        var upperBen = ben.Username.ToUpperInvariant();

        async Task<string[]> MentionsAsync(string text)
        {
            var seq = Seq(await a.AckAsync(EventSocket.Send(room, text)));
            return (await amy.MessageAsync(room, seq)).GetProperty("mentions").Strings();
        }

        Assert.Equal([ben.Username], await MentionsAsync($"thanks @{upperBen}."));                                  // 1
        Assert.Equal([ben.Username, amy.Username], await MentionsAsync($"@{ben.Username}-- (@{amy.Username}) @{ben.Username}")); // 2
        Assert.Empty(await MentionsAsync($"mail {ben.Username}@example.com, @{outsider.Username}, @nobody-here"));       // 3
        Assert.Empty(await MentionsAsync($"@{ben.Username}x and x@{ben.Username}"));                                    // 4
        Assert.Equal([ben.Username], await MentionsAsync($"é@{ben.Username} no, but ☕@{ben.Username} yes"));            // 5

        var rooms = await ben.RoomsAsync();
        Assert.Equal(3, rooms[room].GetProperty("mention_count").GetInt32());

        // An edit that drops the mention, and a deletion, take it off the count; so does reading past it.
        await a.AckAsync(EventSocket.Edit(room, 1, "thanks all"));
        await a.AckAsync(EventSocket.Delete(room, 2));
        Assert.Equal(1, (await ben.RoomsAsync())[room].GetProperty("mention_count").GetInt32());
        var welcome = await (await ben.ConnectAsync()).NextAsync("welcome");
        Assert.Equal(1, welcome.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("id").GetString() == room).GetProperty("mention_count").GetInt32());
        await b.Socket.SendAsync(new { type = "read", room, seq = 5 });
        var until = DateTime.UtcNow + TestServer.Timeout;
        while ((await ben.RoomsAsync())[room].GetProperty("mention_count").GetInt32() != 0)
        {
            Assert.True(DateTime.UtcNow < until, "ben's mention count did not drop to 0 once he read past the mention");
            await Task.Delay(50);
        }

        Assert.Equal(0, (await amy.RoomsAsync())[room].GetProperty("mention_count").GetInt32());
    }

    [Fact]
    public async Task Edit_and_delete_are_refused_with_the_contracts_codes_over_the_socket_and_http()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var outsider = await server.UserAsync("out");
        var a = await EventSocket.ConnectAsync(amy);
        var b = await EventSocket.ConnectAsync(ben);
        var o = await EventSocket.ConnectAsync(outsider);
        await b.AckAsync(EventSocket.Send(room, "ben's words"));                          // 1
        await a.AckAsync(EventSocket.React(room, 1, "👍"));                               // 2

        // Edit: only the author; only a live message of the room.
        Assert.Equal("forbidden", await a.ErrorAsync(EventSocket.Edit(room, 1, "amy's now")));
        await Problem.AssertAsync(await amy.EditAsync(room, 1, new { text = "amy's now" }), HttpStatusCode.Forbidden);
        Assert.Equal("not_found", await b.ErrorAsync(EventSocket.Edit(room, 99, "x")));
        Assert.Equal("not_found", await a.ErrorAsync(EventSocket.Edit(room, 2, "a reaction is not a message")));
        await Problem.AssertAsync(await ben.EditAsync(room, 99, new { text = "x" }), HttpStatusCode.NotFound);
        Assert.Equal("forbidden", await o.ErrorAsync(EventSocket.Edit(room, 1, "x")));
        await Problem.AssertAsync(await outsider.EditAsync(room, 1, new { text = "x" }), HttpStatusCode.Forbidden);
        Assert.Equal("not_found", await b.ErrorAsync(EventSocket.Edit("rnosuchroom", 1, "x")));
        Assert.Equal("bad_request", await b.ErrorAsync(EventSocket.Edit(room, 1, "   ")));
        await Problem.AssertAsync(await ben.EditAsync(room, 1, new { text = "" }), HttpStatusCode.BadRequest);
        Assert.Equal("too_large", await b.ErrorAsync(EventSocket.Edit(room, 1, new string('x', 4001))));
        await Problem.AssertAsync(await ben.EditAsync(room, 1, new { text = new string('x', 4001) }), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("bad_request", await b.ErrorAsync(EventSocket.Edit(room, 0, "x")));
        Assert.Equal("bad_request", await b.ErrorAsync(new() { ["type"] = "edit", ["room"] = room, ["target"] = "1", ["text"] = "x" }));
        await Problem.AssertAsync(await ben.EditAsync(room, 1, new { text = 5 }), HttpStatusCode.BadRequest);
        using (var http = ben.Http())
        {
            await Problem.AssertAsync(await http.PatchAsync($"/api/rooms/{room}/messages/one", JsonContent.Create(new { text = "x" })), HttpStatusCode.BadRequest);
        }

        // Delete: the author, the room's owner (its creator, amy) or an admin; a member who is none of these is refused.
        var cat = await server.UserAsync("cat");
        await cat.JoinAsync(room);
        var c = await EventSocket.ConnectAsync(cat);
        Assert.Equal("forbidden", await c.ErrorAsync(EventSocket.Delete(room, 1)));
        await Problem.AssertAsync(await cat.DeleteMessageAsync(room, 1), HttpStatusCode.Forbidden);
        Assert.Equal("forbidden", await o.ErrorAsync(EventSocket.Delete(room, 1)));
        Assert.Equal("not_found", await c.ErrorAsync(EventSocket.Delete(room, 2)));
        Assert.Equal(3, Seq(await a.AckAsync(EventSocket.Delete(room, 1))));              // the owner deletes ben's message
        Assert.Equal("not_found", await b.ErrorAsync(EventSocket.Delete(room, 1)));       // already deleted
        Assert.Equal("not_found", await b.ErrorAsync(EventSocket.Edit(room, 1, "back")));
        Assert.Equal("not_found", await a.ErrorAsync(EventSocket.React(room, 1, "👍", on: false)));
        Assert.Equal("not_found", await a.ErrorAsync(EventSocket.Send(room, "re: deleted", replyTo: 1)));
        await Problem.AssertAsync(await amy.SendAsync(room, new { text = "re: nothing", reply_to = 77 }), HttpStatusCode.NotFound);

        // Nothing refused took a seq.
        Assert.Equal(4, Seq(await c.AckAsync(EventSocket.Send(room, "cat's words"))));
    }

    [Fact]
    public async Task A_server_admin_may_delete_any_message_even_in_a_room_they_are_not_in()
    {
        await using var server = await TestServer.StartAsync("Natter:Admins:0=BOSS");
        var boss = await NamedUserAsync(server, "boss");
        var owner = await server.UserAsync("own");
        var other = await server.UserAsync("oth");
        var room = await owner.CreateRoomAsync("r");
        await other.JoinAsync(room);
        await (await owner.SendAsync(room, new { text = "mine" })).JsonAsync(HttpStatusCode.Created);
        await Problem.AssertAsync(await other.DeleteMessageAsync(room, 1), HttpStatusCode.Forbidden);

        var deleted = await (await boss.DeleteMessageAsync(room, 1)).JsonAsync();
        Assert.Equal(("delete", "boss", 1L), (deleted.GetProperty("kind").GetString(), deleted.GetProperty("from").GetString(), deleted.GetProperty("target").GetInt64()));
        Assert.True((await owner.MessageAsync(room, 1)).GetProperty("deleted").GetBoolean());

        // Being an admin does not make one a member for anything else.
        await Problem.AssertAsync(await boss.EditAsync(room, 1, new { text = "x" }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await boss.ReactAsync(room, 1, "👍", on: true), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task In_a_direct_room_only_the_author_may_delete()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        var ben = await server.UserAsync("ben");
        var a = await EventSocket.ConnectAsync(amy);
        var sent = await a.AckAsync(new() { ["type"] = "send", ["to"] = ben.Username, ["text"] = "psst", ["client_id"] = "d1" });
        var room = sent.GetProperty("room").GetString()!;
        await Problem.AssertAsync(await ben.DeleteMessageAsync(room, 1), HttpStatusCode.Forbidden);
        Assert.Equal(2, Seq(await a.AckAsync(EventSocket.Delete(room, 1))));
    }

    [Fact]
    public async Task Reactions_and_replies_are_refused_with_the_contracts_codes()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync("Natter:Limits:SendBurst=1000", "Natter:Limits:SendsPerSecond=1000");
        await using var _ = server;
        var outsider = await server.UserAsync("out");
        var a = await EventSocket.ConnectAsync(amy);
        var o = await EventSocket.ConnectAsync(outsider);
        await a.AckAsync(EventSocket.Send(room, "react to me"));                          // 1

        Assert.Equal("forbidden", await o.ErrorAsync(EventSocket.React(room, 1, "👍")));
        await Problem.AssertAsync(await outsider.ReactAsync(room, 1, "👍", on: true), HttpStatusCode.Forbidden);
        Assert.Equal("not_found", await a.ErrorAsync(EventSocket.React(room, 42, "👍")));
        await Problem.AssertAsync(await amy.ReactAsync(room, 42, "👍", on: true), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await amy.ReactAsync("rnosuchroom", 1, "👍", on: true), HttpStatusCode.NotFound);
        foreach (var emoji in BadEmoji)
        {
            Assert.Equal("bad_request", await a.ErrorAsync(EventSocket.React(room, 1, emoji)));
        }

        await Problem.AssertAsync(await amy.ReactAsync(room, 1, "a b", on: true), HttpStatusCode.BadRequest);
        Assert.Equal("bad_request", await a.ErrorAsync(new() { ["type"] = "react", ["room"] = room, ["target"] = 1, ["emoji"] = "👍", ["on"] = "yes" }));

        // Half a surrogate pair is no emoji (written by hand: a JSON serializer would replace it).
        await o.Socket.SendTextAsync($$"""{"type":"react","room":"{{room}}","target":1,"emoji":"\ud83d","ref":"half"}""");
        var half = await o.Socket.NextAsync("error");
        Assert.Equal(("half", "bad_request"), (half.GetProperty("ref").GetString(), half.GetProperty("code").GetString()));

        // 16 code points and a ZWJ sequence are emoji; so is a :short_name:.
        Assert.Equal(2, Seq(await a.AckAsync(EventSocket.React(room, 1, new string('x', 16)))));
        Assert.Equal(3, Seq(await a.AckAsync(EventSocket.React(room, 1, "👨‍👩‍👧"))));
        Assert.Equal(4, Seq(await a.AckAsync(EventSocket.React(room, 1, ":+1:"))));
        var http = await (await amy.ReactAsync(room, 1, ":a/b:", on: true)).JsonAsync();
        Assert.Equal(":a/b:", http.GetProperty("emoji").GetString());

        // A message carries at most 20 distinct emoji: a 21st is "limit" (409); more of an emoji already on is fine.
        for (var i = 6; i <= 21; i++)
        {
            await a.AckAsync(EventSocket.React(room, 1, $":e{i}:"));
        }

        Assert.Equal("limit", await a.ErrorAsync(EventSocket.React(room, 1, ":one-too-many:")));
        await Problem.AssertAsync(await ben.ReactAsync(room, 1, ":one-too-many:", on: true), HttpStatusCode.Conflict);
        Assert.Equal(22, Seq(await (await ben.ReactAsync(room, 1, ":+1:", on: true)).JsonAsync()));
        Assert.Equal(20, (await amy.MessageAsync(room, 1)).GetProperty("reactions").GetArrayLength());

        // Replies name a live message of the same room; files are checked (none exist before uploads do).
        Assert.Equal("not_found", await a.ErrorAsync(EventSocket.Send(room, "re: a reaction", replyTo: 2)));
        Assert.Equal("not_found", await a.ErrorAsync(EventSocket.Send(room, "re: the future", replyTo: 999)));
        Assert.Equal("bad_request", await a.ErrorAsync(EventSocket.Send(room, "re: zero", replyTo: 0)));
        var elsewhere = await amy.CreateRoomAsync("elsewhere");
        await (await amy.SendAsync(elsewhere, new { text = "x" })).JsonAsync(HttpStatusCode.Created);
        await Problem.AssertAsync(await amy.SendAsync(elsewhere, new { text = "re", reply_to = 22 }), HttpStatusCode.NotFound);
        Assert.Equal(1, (await (await amy.SendAsync(elsewhere, new { text = "re", reply_to = 1 })).JsonAsync(HttpStatusCode.Created)).GetProperty("reply_to").GetInt64());
        await Problem.AssertAsync(await amy.SendAsync(room, new { text = "files", files = Enumerable.Range(0, 11).Select(i => $"f{i}").ToArray() }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await amy.SendAsync(room, new { text = "files", files = (string[])["f1"] }), HttpStatusCode.NotFound);
        Assert.Equal(23, Seq(await a.AckAsync(new() { ["type"] = "send", ["room"] = room, ["text"] = "no files", ["files"] = Array.Empty<string>(), ["client_id"] = "nf" })));
        Assert.Equal("bad_request", await a.ErrorAsync(new() { ["type"] = "send", ["room"] = room, ["text"] = "x", ["files"] = "f1" }));
    }

    private static readonly string[] BadEmoji = ["", "a b", "tab\t", "\u0007", new string('x', 17), string.Concat(Enumerable.Repeat("🙂", 17))];

    [Fact]
    public async Task Edits_deletes_and_reactions_count_against_the_send_rate_and_over_it_store_nothing()
    {
        var (server, amy, _, room) = await RoomOfTwoAsync("Natter:Limits:SendsPerSecond=1", "Natter:Limits:SendBurst=5");
        await using var __ = server;
        var a = await EventSocket.ConnectAsync(amy);
        await a.AckAsync(EventSocket.Send(room, "one"));
        var frames = Enumerable.Range(0, 30).Select(i => (i % 3) switch
        {
            0 => EventSocket.Edit(room, 1, $"edit {i}"),
            1 => EventSocket.React(room, 1, $":r{i}:"),
            _ => EventSocket.React(room, 1, $":r{i - 1}:", on: false),
        }).ToList();
        var replies = await a.RequestAllAsync(frames);
        var acked = replies.Count(r => r.GetProperty("type").GetString() == "ack" && r.GetProperty("seq").ValueKind == JsonValueKind.Number);
        var limited = replies.Count(r => r.GetProperty("type").GetString() == "error" && r.GetProperty("code").GetString() == "rate_limited");
        Assert.True(limited > 0, "none of 30 quick edits and reactions was rate limited");
        Assert.Equal(1 + acked, (await amy.RoomsAsync())[room].GetProperty("last_seq").GetInt64());
    }

    [Fact]
    public async Task Half_a_surrogate_pair_in_any_string_is_a_bad_request_and_the_socket_stays_open()
    {
        var (server, amy, _, room) = await RoomOfTwoAsync();
        await using var __ = server;
        var socket = await amy.ConnectAsync();
        await socket.NextAsync("welcome");
        foreach (var frame in new[]
        {
            $$"""{"type":"send","room":"{{room}}","text":"\udc00 alone","ref":"1"}""",
            $$"""{"type":"edit","room":"{{room}}","target":1,"text":"x","client_id":"\ud800","ref":"2"}""",
            """{"type":"sync","rooms":{"\ud800":0},"ref":"3"}""",
        })
        {
            await socket.SendTextAsync(frame);
            Assert.Equal("bad_request", (await socket.NextAsync("error")).GetProperty("code").GetString());
        }

        using var http = amy.Http();
        using var body = new StringContent("""{"text":"\ud800"}""", System.Text.Encoding.UTF8, "application/json");
        await Problem.AssertAsync(await http.PostAsync($"/api/rooms/{room}/messages", body), HttpStatusCode.BadRequest);
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
    }

    /// <summary>A user with a name of the test's choosing (admins are configured by name).</summary>
    private static async Task<TestUser> NamedUserAsync(TestServer server, string name) =>
        (await TestUser.RegisterAsync(server.BaseUri, name)).At(server);
}
