using Natter.Server.Storage;

namespace Natter.Server.Bus;

/// <summary>What travels between the message path and every node's fan-out.</summary>
public abstract record BusEvent
{
    /// <summary>
    /// A membership change's id in the store's change log (0: not logged). A node replays the log after losing the
    /// bus and skips a change it has seen (protocol v2 §4: membership changes are not lost while a node is cut off).
    /// </summary>
    public long ChangeId { get; init; }
}

/// <summary>Room log entries (messages, edits, deletions, reactions) just committed, in commit order (per room: ascending seq).</summary>
public sealed record EventsStored(IReadOnlyList<StoredEvent> Events) : BusEvent;

public sealed record TypingEvent(string Room, long UserId, string Username) : BusEvent;

public sealed record ReadEvent(string Room, long UserId, string Username, long Seq) : BusEvent;

/// <summary>A user joined or left a group room. LastSeq is the room's seq when it happened: live delivery to the joiner starts after it.</summary>
public sealed record MemberEvent(string Room, long UserId, string Username, bool Joined, long LastSeq) : BusEvent
{
    /// <summary>A removal by a moderator: "kicked" or "banned" (null: joined or left).</summary>
    public string? Reason { get; init; }

    /// <summary>The room as the member sees it: their sockets get a `room` frame "added" (joined) or "removed" (Reason set).</summary>
    public RoomView? View { get; init; }

    /// <summary>The member's role (for the "added" frame).</summary>
    public string Role { get; init; } = RoomRoles.Member;
}

/// <summary>A direct room was created or a member re-added: both members' sockets learn of it.</summary>
public sealed record DirectRoomEvent(string Room, long UserA, string UsernameA, long UserB, string UsernameB, long LastSeq) : BusEvent;

/// <summary>
/// A user's first socket opened or last socket closed (cluster-wide). Rooms: the user's rooms, to find who to tell.
/// Version orders one user's announcements (see <see cref="PresenceChange"/>); 0 is this node's own view, unordered.
/// </summary>
public sealed record PresenceEvent(long UserId, string Username, bool Online, IReadOnlyList<string> Rooms, long Version = 0) : BusEvent;

/// <summary>
/// This node only, after a fault: the cluster's answer (online, and the version of the last announcement) for users
/// this node's sockets were told about, so the fan-out can correct what they missed while this node could not hear.
/// </summary>
public sealed record PresenceSnapshot(IReadOnlyDictionary<string, (long Version, bool Online)> Users) : BusEvent;

/// <summary>A session was logged out: its sockets close with 4001 on every node.</summary>
public sealed record SessionRevoked(long SessionId) : BusEvent;

/// <summary>Sessions that expired and were swept from the store: their sockets close with 4001 on every node.</summary>
public sealed record SessionsExpired(IReadOnlyList<long> SessionIds) : BusEvent;

/// <summary>
/// Every session of a user but KeepSessionId was revoked (a password change) or the account was disabled: the user's
/// other sockets close on every node, with 4003 when Disabled, else 4001.
/// </summary>
public sealed record UserSessionsRevoked(long UserId, long? KeepSessionId, bool Disabled) : BusEvent;
