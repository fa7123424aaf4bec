namespace Natter.Client.Tests;

/// <summary>The per-room state applies messages, edits, deletions and reactions without a server.</summary>
public sealed class RoomTimelineTests
{
    private const string Room = "r1";

    private static ChatMessage Message(long seq, string from, string text, long? replyTo = null, params string[] mentions) =>
        new(Room, seq, from, text, 1000 + seq, "c" + seq) { ReplyTo = replyTo, Mentions = mentions };

    private static MessageEdit Edit(long seq, long target, string text, params string[] mentions) =>
        new(Room, seq, "amy", 1000 + seq, target, text, mentions, "e" + seq);

    private static MessageDeletion Delete(long seq, long target) => new(Room, seq, "amy", 1000 + seq, target, "d" + seq);

    private static ReactionChange React(long seq, long target, string from, string emoji, bool on = true) =>
        new(Room, seq, from, 1000 + seq, target, emoji, on, "r" + seq);

    private static string[] Emoji(TimelineMessage m) => [.. m.Reactions.Select(r => r.Emoji)];

    [Fact]
    public void Messages_are_held_in_seq_order_and_edits_change_text_mentions_and_edit_time()
    {
        var timeline = new RoomTimeline(Room);
        Assert.True(timeline.Apply(Message(3, "ben", "third")));
        Assert.True(timeline.Apply(Message(1, "amy", "first", mentions: "ben")));
        Assert.True(timeline.Apply(Edit(4, 1, "first, edited", "cat")));
        Assert.True(timeline.Apply(Message(5, "amy", "a reply", replyTo: 1)));

        Assert.Equal([1, 3, 5], timeline.Messages.Select(m => m.Seq));
        var first = timeline.Find(1)!;
        Assert.Equal(("first, edited", "cat", 1004L), (first.Text, string.Join(',', first.Mentions), first.EditedTs!.Value));
        Assert.Equal(1, timeline.Find(5)!.ReplyTo);
        Assert.Equal(5, timeline.LastSeq);

        // An earlier edit seen again (a replay) does not undo a later one; the same message twice changes nothing.
        Assert.True(timeline.Apply(Edit(6, 1, "first, again")));
        Assert.False(timeline.Apply(Edit(4, 1, "first, edited")));
        Assert.False(timeline.Apply(Message(1, "amy", "first")));
        Assert.Equal("first, again", timeline.Find(1)!.Text);
    }

    [Fact]
    public void Reactions_keep_first_use_order_and_an_emoji_goes_when_its_last_user_takes_it_back()
    {
        var timeline = new RoomTimeline(Room);
        timeline.Apply(Message(1, "amy", "react to me"));
        timeline.Apply(React(2, 1, "ben", "🎉"));
        timeline.Apply(React(3, 1, "cat", "👍"));
        timeline.Apply(React(4, 1, "amy", "🎉"));
        Assert.False(timeline.Apply(React(4, 1, "amy", "🎉")));             // seen twice
        Assert.False(timeline.Apply(React(5, 1, "dan", "👀", on: false)));   // off that was not on

        var m = timeline.Find(1)!;
        Assert.Equal(["🎉", "👍"], Emoji(m));
        Assert.Equal(["ben", "amy"], m.Reactions[0].Users);

        timeline.Apply(React(6, 1, "ben", "🎉", on: false));
        timeline.Apply(React(7, 1, "amy", "🎉", on: false));
        timeline.Apply(React(8, 1, "ben", "🎉"));
        Assert.Equal(["👍", "🎉"], Emoji(timeline.Find(1)!));
        Assert.Equal(["ben"], timeline.Find(1)!.Reactions[1].Users);
    }

    [Fact]
    public void A_deletion_keeps_the_place_and_drops_text_mentions_and_reactions_and_nothing_brings_them_back()
    {
        var timeline = new RoomTimeline(Room);
        timeline.Apply(Message(1, "amy", "secret @ben", mentions: "ben"));
        timeline.Apply(React(2, 1, "ben", "🙈"));
        Assert.True(timeline.Apply(Delete(3, 1)));

        var deleted = timeline.Find(1)!;
        Assert.Equal((true, "", 0, 0), (deleted.Deleted, deleted.Text, deleted.Mentions.Count, deleted.Reactions.Count));
        Assert.False(timeline.Apply(Edit(4, 1, "back")));
        Assert.False(timeline.Apply(React(5, 1, "cat", "👍")));
        Assert.False(timeline.Apply(Delete(6, 1)));
        Assert.Equal(6, timeline.LastSeq);

        // A message synced after its deletion arrives deleted, and its replayed edits have no words to restore.
        var later = new RoomTimeline(Room);
        later.Apply(Message(1, "amy", "") with { Deleted = true });
        later.Apply(Edit(4, 1, ""));
        Assert.Equal((true, ""), (later.Find(1)!.Deleted, later.Find(1)!.Text));
    }

    [Fact]
    public void History_loads_current_state_and_events_about_unknown_or_other_rooms_messages_are_ignored()
    {
        var timeline = new RoomTimeline(Room);
        var changes = new List<long>();
        timeline.Changed += changes.Add;
        timeline.Load(
        [
            new ChatMessage(Room, 10, "amy", "edited already", 1010, "c10") { EditedTs = 1012, Reactions = [new ReactionSummary("👍", ["ben"])] },
            new ChatMessage(Room, 11, "ben", "", 1011, "c11") { Deleted = true },
            new ChatMessage("elsewhere", 12, "cat", "not ours", 1012, "c12"),
        ]);
        Assert.Equal([10, 11], timeline.Messages.Select(m => m.Seq));
        Assert.Equal([10, 11], changes);

        // Events already reflected in the history change nothing; new ones do.
        Assert.False(timeline.Apply(Edit(12, 10, "older text") with { Ts = 1005 }));
        Assert.False(timeline.Apply(React(13, 10, "ben", "👍")));
        Assert.True(timeline.Apply(React(14, 10, "cat", "👍")));
        Assert.Equal(["ben", "cat"], timeline.Find(10)!.Reactions[0].Users);

        Assert.False(timeline.Apply(Edit(15, 3, "before our window")));
        Assert.False(timeline.Apply(new MessageEdit("elsewhere", 16, "amy", 1016, 10, "wrong room", [], null)));
        Assert.Equal("edited already", timeline.Find(10)!.Text);
    }
}
