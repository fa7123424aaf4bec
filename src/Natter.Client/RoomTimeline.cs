namespace Natter.Client;

/// <summary>A message as a <see cref="RoomTimeline"/> holds it: its current state.</summary>
public sealed record TimelineMessage(long Seq, string From, string Text, long Ts, string? ClientId)
{
    public long? ReplyTo { get; init; }

    public IReadOnlyList<string> Mentions { get; init; } = [];

    /// <summary>When the text was last edited, or null.</summary>
    public long? EditedTs { get; init; }

    /// <summary>Deleted: Text is empty and there are no mentions or reactions.</summary>
    public bool Deleted { get; init; }

    /// <summary>Reactions in first-use order; an emoji nobody has on any more is gone.</summary>
    public IReadOnlyList<ReactionSummary> Reactions { get; init; } = [];
}

/// <summary>
/// The messages of one room in their current state, kept by applying the room's events: messages, edits,
/// deletions and reactions. It needs no server: feed it history (<see cref="Load"/>) and events, by hand or with
/// <see cref="Follow"/>. Applying is idempotent (an event seen twice, or one already reflected in loaded history,
/// changes nothing more), and an event about a message the timeline does not hold (older than what was loaded) is
/// ignored. Thread-safe; <see cref="Changed"/> is raised after each change, outside the lock.
/// </summary>
public sealed class RoomTimeline(string room)
{
    private readonly Lock _gate = new();
    private readonly SortedList<long, TimelineMessage> _messages = [];
    private readonly Dictionary<long, long> _editSeq = [];

    public string Room { get; } = room;

    /// <summary>Raised with the seq of the message that changed.</summary>
    public event Action<long>? Changed;

    /// <summary>The highest seq of any event or message applied.</summary>
    public long LastSeq
    {
        get { lock (_gate) { return _lastSeq; } }
    }

    private long _lastSeq;

    /// <summary>The messages, ascending by seq.</summary>
    public IReadOnlyList<TimelineMessage> Messages
    {
        get { lock (_gate) { return [.. _messages.Values]; } }
    }

    public TimelineMessage? Find(long seq)
    {
        lock (_gate)
        {
            return _messages.GetValueOrDefault(seq);
        }
    }

    /// <summary>Adds or replaces messages from history (each in its current state).</summary>
    public void Load(IEnumerable<ChatMessage> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var changed = new List<long>();
        lock (_gate)
        {
            foreach (var m in history.Where(m => m.Room == Room))
            {
                _messages[m.Seq] = new TimelineMessage(m.Seq, m.From, m.Deleted ? "" : m.Text, m.Ts, m.ClientId)
                {
                    ReplyTo = m.ReplyTo,
                    Mentions = m.Deleted ? [] : m.Mentions,
                    EditedTs = m.EditedTs,
                    Deleted = m.Deleted,
                    Reactions = m.Deleted ? [] : m.Reactions,
                };
                _lastSeq = Math.Max(_lastSeq, m.Seq);
                changed.Add(m.Seq);
            }
        }

        changed.ForEach(Notify);
    }

    /// <summary>A new message (live or synced). A message already held is left as it is.</summary>
    public bool Apply(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Change(message.Room, message.Seq, message.Seq, _ =>
            new TimelineMessage(message.Seq, message.From, message.Deleted ? "" : message.Text, message.Ts, message.ClientId)
            {
                ReplyTo = message.ReplyTo,
                Mentions = message.Deleted ? [] : message.Mentions,
                Deleted = message.Deleted,
            }, onlyIfMissing: true);
    }

    /// <summary>An edit: the message's text, mentions and edit time (a deleted message stays deleted).</summary>
    public bool Apply(MessageEdit edit)
    {
        ArgumentNullException.ThrowIfNull(edit);
        return Change(edit.Room, edit.Seq, edit.Target, m =>
        {
            // Only a later edit replaces an earlier one (by seq once seen here; against loaded history, by time).
            if (m is null || m.Deleted || _editSeq.GetValueOrDefault(edit.Target) >= edit.Seq || (m.EditedTs is { } at && at > edit.Ts))
            {
                return m;
            }

            _editSeq[edit.Target] = edit.Seq;
            return m with { Text = edit.Text, Mentions = edit.Mentions, EditedTs = edit.Ts };
        });
    }

    /// <summary>A deletion: the message keeps its place, without text, mentions or reactions.</summary>
    public bool Apply(MessageDeletion deletion)
    {
        ArgumentNullException.ThrowIfNull(deletion);
        return Change(deletion.Room, deletion.Seq, deletion.Target, m => m is null || m.Deleted ? m
            : m with { Deleted = true, Text = "", Mentions = [], Reactions = [] });
    }

    /// <summary>A reaction added (the user joins the emoji's list; a new emoji comes last) or removed.</summary>
    public bool Apply(ReactionChange reaction)
    {
        ArgumentNullException.ThrowIfNull(reaction);
        return Change(reaction.Room, reaction.Seq, reaction.Target, m =>
        {
            if (m is null || m.Deleted)
            {
                return m;
            }

            var list = m.Reactions.Select(r => (r.Emoji, Users: r.Users.ToList())).ToList();
            var i = list.FindIndex(r => r.Emoji == reaction.Emoji);
            if (reaction.On && i < 0)
            {
                list.Add((reaction.Emoji, [reaction.From]));
            }
            else if (reaction.On && !list[i].Users.Contains(reaction.From))
            {
                list[i].Users.Add(reaction.From);
            }
            else if (!reaction.On && i >= 0 && list[i].Users.Remove(reaction.From))
            {
                if (list[i].Users.Count == 0)
                {
                    list.RemoveAt(i);
                }
            }
            else
            {
                return m;
            }

            return m with { Reactions = [.. list.Select(r => new ReactionSummary(r.Emoji, r.Users))] };
        });
    }

    /// <summary>Keeps this timeline current from a client's events (for this room only); dispose to stop.</summary>
    public IDisposable Follow(NatterClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        Action<ChatMessage> message = m => Apply(m);
        Action<MessageEdit> edit = e => Apply(e);
        Action<MessageDeletion> delete = d => Apply(d);
        Action<ReactionChange> reaction = r => Apply(r);
        client.MessageReceived += message;
        client.MessageEdited += edit;
        client.MessageDeleted += delete;
        client.ReactionChanged += reaction;
        return new Unfollow(() =>
        {
            client.MessageReceived -= message;
            client.MessageEdited -= edit;
            client.MessageDeleted -= delete;
            client.ReactionChanged -= reaction;
        });
    }

    /// <summary>Applies one change to the message at <paramref name="target"/>; true when the message changed.</summary>
    private bool Change(string room, long seq, long target, Func<TimelineMessage?, TimelineMessage?> change, bool onlyIfMissing = false)
    {
        if (room != Room)
        {
            return false;
        }

        lock (_gate)
        {
            _lastSeq = Math.Max(_lastSeq, seq);
            var current = _messages.GetValueOrDefault(target);
            if (onlyIfMissing && current is not null)
            {
                return false;
            }

            var next = change(current);
            if (next is null || ReferenceEquals(next, current))
            {
                return false;
            }

            _messages[target] = next;
        }

        Notify(target);
        return true;
    }

    private void Notify(long seq) => Changed?.Invoke(seq);

    private sealed class Unfollow(Action undo) : IDisposable
    {
        private Action? _undo = undo;

        public void Dispose() => Interlocked.Exchange(ref _undo, null)?.Invoke();
    }
}
