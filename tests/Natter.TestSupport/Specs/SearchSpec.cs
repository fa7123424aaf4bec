using Natter.Server.Storage;

namespace Natter.TestSupport.Specs;

/// <summary>
/// Search (protocol v2 §2) as every IChatStore answers it: every query word matches a word of the message by prefix,
/// case and diacritics ignored; only messages not deleted, by their current text, in rooms the user is in now;
/// newest first, a page at a time without repeats or gaps; narrowed by room and sender.
/// </summary>
public abstract partial class StoreSpec
{
    private async Task<SearchPage> SearchAsync(long user, string q, string? room = null, string? from = null, long? before = null, int limit = 50) =>
        await Store.SearchAsync(new SearchQuery(user, SearchWords.Query(q), room, from, before, limit), default).WaitAsync(Timeout);

    /// <summary>The current texts of the hits, in the order found.</summary>
    private async Task<List<string>> FindAsync(long user, string q, string? room = null, string? from = null)
    {
        var page = await SearchAsync(user, q, room, from);
        Assert.Null(page.Next);
        var texts = new List<string>();
        foreach (var hit in page.Hits)
        {
            texts.Add((await MessageAsync(hit.Room, hit.Seq)).Text);
        }

        return texts;
    }

    private async Task<(long Alice, long Bob, Room Room)> SearchRoomAsync(params string[] texts)
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("search", alice, default).WaitAsync(Timeout);
        await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout);
        for (var i = 0; i < texts.Length; i++)
        {
            await AppendAsync(Msg(room.Id, i % 2 == 0 ? alice : bob, "s" + i, texts[i]));
        }

        return (alice, bob, room);
    }

    [Fact]
    public async Task Search_matches_every_word_by_prefix_ignoring_case_and_diacritics_newest_first()
    {
        var (alice, _, _) = await SearchRoomAsync(
            "Über den Wolken",
            "u\u0308bermorgen vielleicht",   // decomposed: U + combining diaeresis
            "hubert was here",
            "ÜBERALL, überall!",
            "hello world",
            "hello there",
            "world peace",
            "ﬁle report ①");

        Assert.Equal(["ÜBERALL, überall!", "u\u0308bermorgen vielleicht", "Über den Wolken"], await FindAsync(alice, "uber"));
        Assert.Equal(["hello world"], await FindAsync(alice, "HELLO wor"));
        Assert.Equal(["hello world"], await FindAsync(alice, "wor hel"));
        Assert.Equal(["hello there", "hello world"], await FindAsync(alice, "hello hell h"));
        Assert.Empty(await FindAsync(alice, "hello peace"));
        Assert.Empty(await FindAsync(alice, "ello"));
        Assert.Equal(["ﬁle report ①"], await FindAsync(alice, "file 1"));
    }

    [Fact]
    public async Task Search_finds_chinese_japanese_and_korean_words_inside_text_written_without_spaces()
    {
        var (alice, _, room) = await SearchRoomAsync(
            "我们明天去北京开会",
            "東京都に住んでいます",
            "서울에서 만나요",
            "北京烤鸭很好吃");

        Assert.Equal(["北京烤鸭很好吃", "我们明天去北京开会"], await FindAsync(alice, "北京"));
        Assert.Equal(["我们明天去北京开会"], await FindAsync(alice, "开会"));
        Assert.Equal(["我们明天去北京开会"], await FindAsync(alice, "会"));          // the last character of a run
        Assert.Equal(["北京烤鸭很好吃"], await FindAsync(alice, "北京 好吃"));
        Assert.Equal(["東京都に住んでいます"], await FindAsync(alice, "住んで"));
        Assert.Equal(["東京都に住んでいます"], await FindAsync(alice, "京都"));
        Assert.Equal(["서울에서 만나요"], await FindAsync(alice, "만나"));
        Assert.Equal(["서울에서 만나요"], await FindAsync(alice, "에서"));
        Assert.Empty(await FindAsync(alice, "明天北京"));                             // 天北 is in no message
        Assert.Empty(await FindAsync(alice, "东京"));                                 // simplified 东 is not 東

        // An edit is indexed the same way.
        await AppendAsync(Edit(room.Id, alice, 1, "我们后天去上海开会", "e1"));
        Assert.Equal(["我们后天去上海开会"], await FindAsync(alice, "上海"));
        Assert.Equal(["北京烤鸭很好吃"], await FindAsync(alice, "北京"));
    }

    [Fact]
    public async Task Search_treats_query_words_as_words_never_as_query_syntax()
    {
        var (alice, _, _) = await SearchRoomAsync("this or that, not near", "x AND y", "quote \" here");

        Assert.Equal(["this or that, not near"], await FindAsync(alice, "\"or\" NOT* near(that)"));
        Assert.Equal(["x AND y"], await FindAsync(alice, "and"));
        Assert.Equal(["quote \" here"], await FindAsync(alice, "quote\"*"));
    }

    [Fact]
    public async Task Search_finds_an_edited_message_by_its_current_text_and_never_a_deleted_one()
    {
        var (alice, bob, room) = await SearchRoomAsync("apple pie", "cherry tart", "plum cake");

        await AppendAsync(
            Edit(room.Id, alice, 1, "banana split", "e1"),
            Delete(room.Id, alice, 2, "d1"),
            Edit(room.Id, alice, 3, "plum crumble", "e3"),
            Delete(room.Id, alice, 3, "d3"));
        Assert.Empty(await FindAsync(alice, "apple"));
        Assert.Equal(["banana split"], await FindAsync(alice, "banana"));
        Assert.Empty(await FindAsync(bob, "cherry"));
        Assert.Empty(await FindAsync(bob, "plum"));

        // A message stored, edited and deleted in one batch ends as it would across batches.
        await AppendAsync(
            Msg(room.Id, alice, "n1", "kiwi one"),
            Msg(room.Id, alice, "n2", "kiwi two"),
            Edit(room.Id, alice, 9, "mango two", "e9"),
            Delete(room.Id, alice, 8, "d8"));
        Assert.Empty(await FindAsync(alice, "kiwi"));
        Assert.Equal(["mango two"], await FindAsync(alice, "mango"));
    }

    [Fact]
    public async Task Search_finds_a_message_sent_twice_with_one_client_id_once_and_the_messages_around_it()
    {
        var (alice, bob, room) = await SearchRoomAsync("orange one");

        // Repeated in the same batch and in a later one: stored once, found once; the messages after it are found too.
        await AppendAsync(Msg(room.Id, bob, "o2", "orange two"), Msg(room.Id, bob, "o2", "orange two"), Msg(room.Id, alice, "o3", "orange three"));
        await AppendAsync(Msg(room.Id, bob, "o2", "orange two"), Msg(room.Id, alice, "o4", "orange four"));
        Assert.Equal(["orange four", "orange three", "orange two", "orange one"], await FindAsync(alice, "orange"));

        // The newest message deleted, then more sent: each found by its own words, the deleted one never.
        await AppendAsync(Delete(room.Id, alice, 4, "d4"));
        await AppendAsync(Msg(room.Id, bob, "o6", "orange six"));
        await AppendAsync(Edit(room.Id, alice, 3, "lemon three", "e3"));
        Assert.Equal(["orange six", "orange two", "orange one"], await FindAsync(bob, "orange"));
        Assert.Equal(["lemon three"], await FindAsync(bob, "lemon"));
    }

    [Fact]
    public async Task Search_covers_only_the_rooms_the_user_is_a_member_of_now()
    {
        var (alice, bob, room) = await SearchRoomAsync("secret plans");
        var carol = await UserAsync("carol");
        var other = await Store.CreateRoomAsync("other", carol, default).WaitAsync(Timeout);
        await AppendAsync(Msg(other.Id, carol, "c1", "secret recipes"));

        Assert.Equal(["secret plans"], await FindAsync(bob, "secret"));
        Assert.Equal(["secret recipes"], await FindAsync(carol, "secret"));

        await Store.LeaveAsync(room.Id, bob, default).WaitAsync(Timeout);
        Assert.Empty(await FindAsync(bob, "secret"));

        await Store.JoinAsync(other.Id, bob, default).WaitAsync(Timeout);
        Assert.Equal(["secret recipes"], await FindAsync(bob, "secret"));
        Assert.Equal(["secret plans"], await FindAsync(alice, "secret"));
    }

    [Fact]
    public async Task Search_pages_newest_first_without_repeats_or_gaps()
    {
        var alice = await UserAsync("alice");
        var rooms = new[]
        {
            await Store.CreateRoomAsync("one", alice, default).WaitAsync(Timeout),
            await Store.CreateRoomAsync("two", alice, default).WaitAsync(Timeout),
        };
        for (var i = 0; i < 25; i++)
        {
            await AppendAsync(Msg(rooms[i % 2].Id, alice, "p" + i, $"note number {i}"), Msg(rooms[i % 2].Id, alice, "q" + i, "filler"));
        }

        var seen = new List<string>();
        long? before = null;
        var pages = 0;
        do
        {
            var page = await SearchAsync(alice, "note", before: before, limit: 10);
            pages++;
            Assert.True(page.Hits.Count is > 0 and <= 10);
            foreach (var hit in page.Hits)
            {
                seen.Add((await MessageAsync(hit.Room, hit.Seq)).Text);
            }

            Assert.Equal(page.Hits.Select(h => h.Position).OrderDescending(), page.Hits.Select(h => h.Position));
            Assert.True(before is null || page.Hits[0].Position < before);
            before = page.Next;
        }
        while (before is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 25).Reverse().Select(i => $"note number {i}"), seen);
    }

    [Fact]
    public async Task Search_narrows_by_room_and_sender_and_names_each_room_as_the_user_sees_it()
    {
        var (alice, bob, room) = await SearchRoomAsync("lunch today?", "lunch at noon", "lunch is late");
        var direct = await Store.GetOrCreateDirectRoomAsync(alice, bob, default).WaitAsync(Timeout);
        await AppendAsync(Msg(direct.Room.Id, bob, "dm1", "lunch with me"));

        var all = await SearchAsync(alice, "lunch");
        Assert.Equal(["bob", "search", "search", "search"], all.Hits.Select(h => h.RoomName));
        Assert.Equal(["alice"], (await SearchAsync(bob, "lunch", room: direct.Room.Id)).Hits.Select(h => h.RoomName));

        Assert.Equal(["lunch is late", "lunch today?"], await FindAsync(alice, "lunch", room: room.Id, from: "alice"));
        Assert.Equal(["lunch with me", "lunch at noon"], await FindAsync(alice, "lunch", from: "bob"));
        Assert.Equal(["lunch at noon"], await FindAsync(alice, "lunch", room: room.Id, from: "bob"));
        Assert.Empty(await FindAsync(alice, "lunch", from: "nobody"));
    }
}
