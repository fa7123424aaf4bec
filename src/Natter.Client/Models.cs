namespace Natter.Client;

/// <summary>A stored chat message as delivered by the server.</summary>
public sealed record ChatMessage(string Room, long Seq, string From, string Text, long Ts, string? ClientId);

/// <summary>The server's acknowledgement of a send: the message is durably stored with this seq and ts.</summary>
public sealed record SendAck(string Room, long Seq, long Ts, string ClientId);

/// <summary>One of the caller's rooms, as listed by the welcome frame or GET /api/rooms.</summary>
public sealed record RoomSummary(string Id, string Name, string Kind, long LastSeq, long ReadSeq);

/// <summary>A room the user was added to (for example by a first direct message), or created/joined over HTTP.</summary>
public sealed record RoomInfo(string Id, string Name, string Kind);

/// <summary>A user sharing a room with the client came online or went offline.</summary>
public sealed record PresenceEvent(string Username, bool Online);

/// <summary>Another member is typing in a room.</summary>
public sealed record TypingEvent(string Room, string Username);

/// <summary>Another member's read marker moved.</summary>
public sealed record ReadEvent(string Room, string Username, long Seq);

/// <summary>A member joined or left a room; <see cref="Event"/> is "joined" or "left".</summary>
public sealed record MemberEvent(string Room, string Username, string Event);

/// <summary>An error frame: the server refused a frame; the connection stays open.</summary>
public sealed record ErrorEvent(string Code, string Message, string? Ref);

/// <summary>The welcome frame of a (re)connected socket.</summary>
public sealed record WelcomeInfo(string Username, IReadOnlyList<RoomSummary> Rooms);

/// <summary>Why a socket ended; the client reconnects unless <see cref="WillReconnect"/> is false.</summary>
public sealed record DisconnectInfo(int? CloseStatus, string? Description, Exception? Error, bool WillReconnect);
