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

/// <summary>One of the caller's rooms, with the numbers the welcome frame and GET /api/rooms list.</summary>
public sealed record MyRoom(string Id, string Name, string Kind, long LastSeq, long ReadSeq);

public sealed record PublicRoom(string Id, string Name, int Members);

public sealed record RoomMember(long UserId, string Username);

/// <summary>A stored message: what the "message" frame and history carry.</summary>
public sealed record StoredMessage(string Room, long Seq, long SenderId, string From, string Text, long Ts, string ClientId);

/// <summary>A message accepted by the gateway, waiting to be stored.</summary>
public sealed record NewMessage(string Room, long SenderId, string From, string Text, string ClientId, long Ts);

/// <summary>
/// The store's answer for one NewMessage: the stored message, and whether it was stored before (same client_id).
/// Busy: nothing was stored because the room was held by another writer (only from AppendSkippingBusyRoomsAsync);
/// Message then carries seq 0.
/// </summary>
public readonly record struct AppendResult(StoredMessage Message, bool Duplicate, bool Busy = false)
{
    public static AppendResult NotStored(NewMessage m) =>
        new(new StoredMessage(m.Room, 0, m.SenderId, m.From, m.Text, m.Ts, m.ClientId), false, Busy: true);
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
