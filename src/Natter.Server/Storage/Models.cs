namespace Natter.Server.Storage;

public static class RoomKinds
{
    public const string Group = "group";
    public const string Direct = "direct";
}

public sealed record User(long Id, string Username, string PasswordHash, string Status);

public sealed record Session(long Id, long UserId, string Username, DateTimeOffset ExpiresAt);

/// <summary>A room as stored. For a direct room Name is empty: each member sees the other's username.</summary>
public sealed record Room(string Id, string Name, string Kind);

/// <summary>
/// One of the caller's rooms, with the numbers the welcome frame and GET /api/rooms list. MentionCount: messages
/// above ReadSeq, not deleted, whose current text mentions the caller.
/// </summary>
public sealed record MyRoom(string Id, string Name, string Kind, long LastSeq, long ReadSeq, int MentionCount = 0)
{
    /// <summary>Protocol v2 §4: the room's topic, "public" or "private", the caller's role and the member count.</summary>
    public string Topic { get; init; } = "";

    public string Visibility { get; init; } = "public";

    public string Role { get; init; } = "member";

    public int Members { get; init; }
}

public sealed record PublicRoom(string Id, string Name, int Members);

public sealed record RoomMember(long UserId, string Username);

/// <summary>What an entry of a room's log is. Each kind takes the room's next seq.</summary>
public enum EventKind
{
    Message,
    Edit,
    Delete,
    Reaction,
}

public static class EventKinds
{
    /// <summary>The kind as the wire and the stores spell it.</summary>
    public static string Name(EventKind kind) => kind switch
    {
        EventKind.Message => "message",
        EventKind.Edit => "edit",
        EventKind.Delete => "delete",
        EventKind.Reaction => "reaction",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static EventKind Parse(string name) => name switch
    {
        "message" => EventKind.Message,
        "edit" => EventKind.Edit,
        "delete" => EventKind.Delete,
        "reaction" => EventKind.Reaction,
        _ => throw new FormatException($"Unknown event kind '{name}'."),
    };
}

/// <summary>
/// One entry of a room's log as stored: what the event frames, sync and gap filling carry. A message's Text and
/// Mentions are what it said when sent (edits follow as their own events); once the message is deleted, Deleted is
/// true and Text and Mentions are empty, and so are those of its edits.
/// </summary>
public sealed record StoredEvent(string Room, long Seq, EventKind Kind, long SenderId, string From, long Ts, string ClientId)
{
    /// <summary>Message and edit: the text.</summary>
    public string Text { get; init; } = "";

    /// <summary>Message and edit: the members the text mentions (lower-case usernames, each once, in order).</summary>
    public IReadOnlyList<string> Mentions { get; init; } = [];

    /// <summary>Message: the seq of the message it answers.</summary>
    public long? ReplyTo { get; init; }

    /// <summary>Message: the files it lists, in order (none once it is deleted).</summary>
    public IReadOnlyList<FileRef> Files { get; init; } = [];

    /// <summary>Message: deleted since it was sent.</summary>
    public bool Deleted { get; init; }

    /// <summary>Edit, delete and reaction: the seq of the message they change.</summary>
    public long Target { get; init; }

    /// <summary>Reaction: the emoji.</summary>
    public string? Emoji { get; init; }

    /// <summary>Reaction: added (true) or removed (false).</summary>
    public bool On { get; init; }

    // Value equality over the mentions too (a record compares lists by reference): the same event read from the
    // store or from another node's bus equals the one stored.
    public bool Equals(StoredEvent? other) =>
        other is not null
        && (Room, Seq, Kind, SenderId, From, Ts, ClientId, Text, ReplyTo, Deleted, Target, Emoji, On)
            == (other.Room, other.Seq, other.Kind, other.SenderId, other.From, other.Ts, other.ClientId, other.Text, other.ReplyTo,
                other.Deleted, other.Target, other.Emoji, other.On)
        && Mentions.SequenceEqual(other.Mentions)
        && Files.SequenceEqual(other.Files);

    public override int GetHashCode() => HashCode.Combine(Room, Seq, Kind);
}

/// <summary>A member named in a text: the id for the store's mention index, the name for the frames.</summary>
public readonly record struct Mention(long UserId, string Username);

/// <summary>An event accepted by the sending checks, waiting for the group commit.</summary>
public sealed record NewEvent(string Room, long SenderId, string From, EventKind Kind, string ClientId, long Ts)
{
    public string Text { get; init; } = "";

    public IReadOnlyList<Mention> Mentions { get; init; } = [];

    public long? ReplyTo { get; init; }

    /// <summary>Message: the files it lists (checked before the queue: ready, uploaded by the sender; the commit checks they are not freed).</summary>
    public IReadOnlyList<FileRef> Files { get; init; } = [];

    public long Target { get; init; }

    public string? Emoji { get; init; }

    public bool On { get; init; }

    /// <summary>Delete: the sender is a server admin (Natter:Admins), who may delete any message.</summary>
    public bool ByAdmin { get; init; }

    /// <summary>A new message without a reply: the group commit's fast path (no state to read first).</summary>
    public bool IsPlainMessage => Kind == EventKind.Message && ReplyTo is null;

    public static NewEvent Message(string room, long senderId, string from, string text, string clientId, long ts) =>
        new(room, senderId, from, EventKind.Message, clientId, ts) { Text = text };

    /// <summary>The log entry this event becomes with the given seq.</summary>
    public StoredEvent ToStored(long seq) => new(Room, seq, Kind, SenderId, From, Ts, ClientId)
    {
        Text = Text,
        Mentions = Mentions.Count == 0 ? [] : [.. Mentions.Select(m => m.Username)],
        ReplyTo = ReplyTo,
        Files = Files,
        Target = Target,
        Emoji = Emoji,
        On = On,
    };
}

/// <summary>How the group commit decided one NewEvent.</summary>
public enum AppendOutcome
{
    /// <summary>Stored with a new seq.</summary>
    Stored,
    /// <summary>(room, sender, client_id) was stored before: Event is that first event, nothing new is stored.</summary>
    Duplicate,
    /// <summary>A reaction that was already on (or off): nothing stored, no seq.</summary>
    Unchanged,
    /// <summary>The target (or reply_to) is not a message of the room, or is deleted.</summary>
    NotFound,
    /// <summary>The sender may not do this to the target (edit: not the author; delete: not author, owner or admin).</summary>
    Forbidden,
    /// <summary>The target already has the most distinct reaction emoji allowed.</summary>
    Limit,
    /// <summary>Nothing stored: the room was held by another writer (only from AppendSkippingBusyRoomsAsync); try again.</summary>
    Busy,
    /// <summary>
    /// Nothing stored: the room was deleted after the event was checked (a send racing the room's deletion, e.g. on
    /// another node); answered as an event for a deleted room is.
    /// </summary>
    RoomGone,
}

/// <summary>The store's answer for one NewEvent; Event is set for Stored and Duplicate.</summary>
public readonly record struct AppendResult(AppendOutcome Outcome, StoredEvent? Event)
{
    public bool Duplicate => Outcome == AppendOutcome.Duplicate;

    public bool Busy => Outcome == AppendOutcome.Busy;

    public static AppendResult Of(AppendOutcome outcome) => new(outcome, null);

    public static AppendResult NotStored(NewEvent e) => Of(AppendOutcome.Busy);
}

/// <summary>One emoji on a message and who reacted with it, in the order they did.</summary>
public sealed record Reaction(string Emoji, IReadOnlyList<string> Users);

/// <summary>A message in its current state, as history lists it (text and mentions after the latest edit).</summary>
public sealed record MessageState(string Room, long Seq, long SenderId, string From, string Text, long Ts, string ClientId)
{
    public long? ReplyTo { get; init; }

    public IReadOnlyList<string> Mentions { get; init; } = [];

    public long? EditedTs { get; init; }

    public bool Deleted { get; init; }

    /// <summary>The files it lists, in order (none once deleted).</summary>
    public IReadOnlyList<FileRef> Files { get; init; } = [];

    /// <summary>In first-use order: an emoji's place is that of its earliest reaction still on.</summary>
    public IReadOnlyList<Reaction> Reactions { get; init; } = [];
}

public enum JoinOutcome
{
    Joined,
    AlreadyMember,
    NotFound,
    DirectRoom,
}

/// <summary>Created: the room row is new. Added: some member was (re-)added, so their sockets must learn of the room.</summary>
public sealed record DirectRoomResult(Room Room, bool Created, bool Added);
