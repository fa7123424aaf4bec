namespace Natter.Client;

/// <summary>
/// A stored chat message. Live and synced, it is the message as sent (edits, deletions and reactions follow as
/// events of their own; a message synced after its deletion comes with <see cref="Deleted"/> set and no text).
/// From history it is in its current state, with <see cref="EditedTs"/> and <see cref="Reactions"/>.
/// </summary>
public sealed record ChatMessage(string Room, long Seq, string From, string Text, long Ts, string? ClientId)
{
    /// <summary>The seq of the message this one answers, or null.</summary>
    public long? ReplyTo { get; init; }

    /// <summary>The members the text mentions (lower-case usernames, each once, in order).</summary>
    public IReadOnlyList<string> Mentions { get; init; } = [];

    /// <summary>Deleted: its text, mentions and reactions are gone.</summary>
    public bool Deleted { get; init; }

    /// <summary>When the text was last edited (history only), or null.</summary>
    public long? EditedTs { get; init; }

    /// <summary>Reactions in first-use order (history only).</summary>
    public IReadOnlyList<ReactionSummary> Reactions { get; init; } = [];

    /// <summary>The files the message lists, in order (none once deleted).</summary>
    public IReadOnlyList<ChatFile> Files { get; init; } = [];
}

/// <summary>
/// A shared file (protocol v2 §3). <see cref="Url"/> gives its bytes to its uploader and to members of a room where a
/// message lists it; <see cref="ThumbUrl"/> (images only: png, jpeg, gif, webp) a picture at most 400×400.
/// </summary>
public sealed record ChatFile(string Id, string Name, long Size, string ContentType, string Url, string? ThumbUrl)
{
    public bool IsImage => ThumbUrl is not null;
}

/// <summary>One emoji on a message and who reacted with it, in the order they did.</summary>
public sealed record ReactionSummary(string Emoji, IReadOnlyList<string> Users);

/// <summary>An "edit" event: the message at <see cref="Target"/> now says <see cref="Text"/>.</summary>
public sealed record MessageEdit(string Room, long Seq, string From, long Ts, long Target, string Text, IReadOnlyList<string> Mentions, string? ClientId);

/// <summary>A "delete" event: the message at <see cref="Target"/> is deleted.</summary>
public sealed record MessageDeletion(string Room, long Seq, string From, long Ts, long Target, string? ClientId);

/// <summary>A "reaction" event: <see cref="From"/> added (<see cref="On"/>) or removed an emoji on the message at <see cref="Target"/>.</summary>
public sealed record ReactionChange(string Room, long Seq, string From, long Ts, long Target, string Emoji, bool On, string? ClientId);

/// <summary>A room event of a type this client does not know; its seq still moved the room's cursor.</summary>
public sealed record UnknownRoomEvent(string Room, long Seq, string Type);

/// <summary>The server's acknowledgement of a send: the message is durably stored with this seq and ts.</summary>
public sealed record SendAck(string Room, long Seq, long Ts, string ClientId);

/// <summary>
/// The acknowledgement of an edit, delete or reaction: stored with this seq, or, for a reaction that was already on
/// (or off), nothing stored and <see cref="Seq"/> null.
/// </summary>
public sealed record EventAck(string Room, long? Seq, long Ts, string ClientId)
{
    public bool Changed => Seq is not null;
}

/// <summary>One of the caller's rooms, as listed by the welcome frame or GET /api/rooms.</summary>
public sealed record RoomSummary(string Id, string Name, string Kind, long LastSeq, long ReadSeq, int MentionCount = 0)
{
    /// <summary>The room's topic ("" when none).</summary>
    public string Topic { get; init; } = "";

    /// <summary>"public" or "private".</summary>
    public string Visibility { get; init; } = "public";

    /// <summary>How many members the room has.</summary>
    public int Members { get; init; }

    /// <summary>The caller's role: "owner", "moderator" or "member".</summary>
    public string Role { get; init; } = "member";
}

/// <summary>A room the user was added to (for example by a first direct message), or created/joined over HTTP.</summary>
public sealed record RoomInfo(string Id, string Name, string Kind)
{
    public string Topic { get; init; } = "";

    public string Visibility { get; init; } = "public";

    public int Members { get; init; }

    /// <summary>The user's role: "owner", "moderator" or "member".</summary>
    public string Role { get; init; } = "member";

    public long LastSeq { get; init; }
}

/// <summary>
/// A `room` frame: <see cref="Event"/> is "added" (the user became a member), "updated" (name, topic, visibility or
/// the user's role changed), "removed" (kicked or banned) or "deleted" (then only <see cref="RoomInfo.Id"/> is set).
/// </summary>
public sealed record RoomChange(string Event, RoomInfo Room);

/// <summary>A member of a room with their role, and whether they are online.</summary>
public sealed record RoomMember(string Username, string DisplayName, string Role, bool Online);

/// <summary>A user sharing a room with the client came online or went offline.</summary>
public sealed record PresenceEvent(string Username, bool Online);

/// <summary>Another member is typing in a room.</summary>
public sealed record TypingEvent(string Room, string Username);

/// <summary>Another member's read marker moved.</summary>
public sealed record ReadEvent(string Room, string Username, long Seq);

/// <summary>
/// A member joined or left a room; <see cref="Event"/> is "joined", "left", "kicked", "banned" or "role" (then
/// <see cref="Role"/> is the member's new role).
/// </summary>
public sealed record MemberEvent(string Room, string Username, string Event)
{
    public string? Role { get; init; }
}

/// <summary>An error frame: the server refused a frame; the connection stays open.</summary>
public sealed record ErrorEvent(string Code, string Message, string? Ref);

/// <summary>The welcome frame of a (re)connected socket.</summary>
public sealed record WelcomeInfo(string Username, IReadOnlyList<RoomSummary> Rooms);

/// <summary>Why a socket ended; the client reconnects unless <see cref="WillReconnect"/> is false.</summary>
public sealed record DisconnectInfo(int? CloseStatus, string? Description, Exception? Error, bool WillReconnect);
