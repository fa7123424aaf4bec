namespace Natter.Server.Storage;

public static class RoomRoles
{
    public const string Owner = "owner";
    public const string Moderator = "moderator";
    public const string Member = "member";

    /// <summary>Owner or moderator: may rename, invite, kick and ban.</summary>
    public static bool Moderates(string? role) => role is Owner or Moderator;
}

public static class RoomVisibility
{
    public const string Public = "public";
    public const string Private = "private";
}

/// <summary>A room's shared state (everything in the room object but the viewer's role and read state).</summary>
public sealed record RoomInfo(string Id, string Name, string Kind, string Topic, string Visibility, int Members, long LastSeq);

/// <summary>A member with their role, in the order they joined.</summary>
public sealed record MemberInfo(long UserId, string Username, string Role);

/// <summary>How adding a member to a group room ended.</summary>
public enum AddMemberOutcome
{
    Added,
    AlreadyMember,
    NotFound,
    DirectRoom,
    /// <summary>A private room and the user was not invited.</summary>
    Private,
    Banned,
    /// <summary>The room has the most members allowed.</summary>
    Full,
}

/// <summary>A membership change as written to the change log: replayed to nodes that were cut off from the bus.</summary>
public sealed record RoomChangeRow(long Id, string Room, string Payload, long Ts);

/// <summary>
/// Roles, room settings, bans, deleting rooms, and the membership change log (protocol v2 §4). Every call that
/// changes membership is one transaction; the caller decides who may do it (the store only answers).
/// </summary>
public interface IRoomAdminStore
{
    /// <summary>A group room with its creator as owner.</summary>
    Task<Room> CreateGroupRoomAsync(string name, string topic, string visibility, long ownerId, CancellationToken ct);

    /// <summary>Null when there is no such room (or it was deleted).</summary>
    Task<RoomInfo?> GetRoomInfoAsync(string roomId, CancellationToken ct);

    /// <summary>The user's role in the room; null when not a member.</summary>
    Task<string?> GetRoleAsync(string roomId, long userId, CancellationToken ct);

    /// <summary>Members with roles, in the order they joined.</summary>
    Task<IReadOnlyList<MemberInfo>> ListMembersWithRolesAsync(string roomId, CancellationToken ct);

    /// <summary>
    /// Adds a member to a group room as "member". Refused for a banned user, a full room (maxMembers) and, unless
    /// invited, a private room.
    /// </summary>
    Task<AddMemberOutcome> AddMemberAsync(string roomId, long userId, bool invited, int maxMembers, CancellationToken ct);

    /// <summary>
    /// Removes a member (leave or kick). When the owner leaves, the longest-standing moderator (else member) becomes
    /// owner: that member is returned as Successor. Removed: false when the user was not a member.
    /// </summary>
    Task<(bool Removed, MemberInfo? Successor)> RemoveMemberAsync(string roomId, long userId, CancellationToken ct);

    /// <summary>Bans (also a user who never joined) and removes their membership; true when they were a member.</summary>
    Task<bool> BanAsync(string roomId, long userId, long byUserId, CancellationToken ct);

    /// <summary>True when a ban was lifted.</summary>
    Task<bool> UnbanAsync(string roomId, long userId, CancellationToken ct);

    Task<bool> IsBannedAsync(string roomId, long userId, CancellationToken ct);

    /// <summary>Usernames banned from the room.</summary>
    Task<IReadOnlyList<string>> ListBansAsync(string roomId, CancellationToken ct);

    /// <summary>Sets a member's role to moderator or member; false when not a member.</summary>
    Task<bool> SetRoleAsync(string roomId, long userId, string role, CancellationToken ct);

    /// <summary>In one transaction: the new owner becomes owner and the old one moderator. False when the new owner is not a member.</summary>
    Task<bool> HandOverAsync(string roomId, long fromUserId, long toUserId, CancellationToken ct);

    /// <summary>Changes what is given (null: unchanged); the new state, or null when the room does not exist.</summary>
    Task<RoomInfo?> UpdateRoomAsync(string roomId, string? name, string? topic, string? visibility, CancellationToken ct);

    /// <summary>
    /// Deletes the room's history, members, bans and reactions; the room row stays as a deleted marker so ids are
    /// never reused. Returns the members it had (empty when the room did not exist).
    /// </summary>
    Task<IReadOnlyList<long>> DeleteRoomAsync(string roomId, CancellationToken ct);

    /// <summary>Writes a membership change to the change log; returns its id (ascending in commit order, nearly).</summary>
    Task<long> AppendRoomChangeAsync(string roomId, string payload, long ts, CancellationToken ct);

    /// <summary>Changes with id above afterId and ts at or after sinceTs, ascending by id; at most limit.</summary>
    Task<IReadOnlyList<RoomChangeRow>> ReadRoomChangesAsync(long afterId, long sinceTs, int limit, CancellationToken ct);

    /// <summary>Deletes changes older than beforeTs; returns how many.</summary>
    Task<int> PruneRoomChangesAsync(long beforeTs, CancellationToken ct);
}
