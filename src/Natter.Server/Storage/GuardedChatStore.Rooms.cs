namespace Natter.Server.Storage;

/// <summary>The room administration calls (protocol v2 §4), guarded like the rest.</summary>
public sealed partial class GuardedChatStore
{
    public Task<Room> CreateGroupRoomAsync(string name, string topic, string visibility, long ownerId, CancellationToken ct) =>
        WriteAsync(() => inner.CreateGroupRoomAsync(name, topic, visibility, ownerId, ct));

    public Task<RoomInfo?> GetRoomInfoAsync(string roomId, CancellationToken ct) =>
        ReadAsync(() => inner.GetRoomInfoAsync(roomId, ct));

    public Task<string?> GetRoleAsync(string roomId, long userId, CancellationToken ct) =>
        ReadAsync(() => inner.GetRoleAsync(roomId, userId, ct));

    public Task<IReadOnlyList<MemberInfo>> ListMembersWithRolesAsync(string roomId, CancellationToken ct) =>
        ReadAsync(() => inner.ListMembersWithRolesAsync(roomId, ct));

    public Task<AddMemberOutcome> AddMemberAsync(string roomId, long userId, bool invited, int maxMembers, CancellationToken ct) =>
        WriteAsync(() => inner.AddMemberAsync(roomId, userId, invited, maxMembers, ct));

    public Task<(bool Removed, MemberInfo? Successor)> RemoveMemberAsync(string roomId, long userId, CancellationToken ct) =>
        WriteAsync(() => inner.RemoveMemberAsync(roomId, userId, ct));

    public Task<bool> BanAsync(string roomId, long userId, long byUserId, CancellationToken ct) =>
        WriteAsync(() => inner.BanAsync(roomId, userId, byUserId, ct));

    public Task<bool> UnbanAsync(string roomId, long userId, CancellationToken ct) =>
        WriteAsync(() => inner.UnbanAsync(roomId, userId, ct));

    public Task<bool> IsBannedAsync(string roomId, long userId, CancellationToken ct) =>
        ReadAsync(() => inner.IsBannedAsync(roomId, userId, ct));

    public Task<IReadOnlyList<string>> ListBansAsync(string roomId, CancellationToken ct) =>
        ReadAsync(() => inner.ListBansAsync(roomId, ct));

    public Task<bool> SetRoleAsync(string roomId, long userId, string role, CancellationToken ct) =>
        WriteAsync(() => inner.SetRoleAsync(roomId, userId, role, ct));

    public Task<bool> HandOverAsync(string roomId, long fromUserId, long toUserId, CancellationToken ct) =>
        WriteAsync(() => inner.HandOverAsync(roomId, fromUserId, toUserId, ct));

    public Task<RoomInfo?> UpdateRoomAsync(string roomId, string? name, string? topic, string? visibility, CancellationToken ct) =>
        WriteAsync(() => inner.UpdateRoomAsync(roomId, name, topic, visibility, ct));

    public Task<IReadOnlyList<long>> DeleteRoomAsync(string roomId, CancellationToken ct) =>
        WriteAsync(() => inner.DeleteRoomAsync(roomId, ct));

    public Task<long> AppendRoomChangeAsync(string roomId, string payload, long ts, CancellationToken ct) =>
        WriteAsync(() => inner.AppendRoomChangeAsync(roomId, payload, ts, ct));

    public Task<IReadOnlyList<RoomChangeRow>> ReadRoomChangesAsync(long afterId, long sinceTs, int limit, CancellationToken ct) =>
        ReadAsync(() => inner.ReadRoomChangesAsync(afterId, sinceTs, limit, ct));

    public Task<int> PruneRoomChangesAsync(long beforeTs, CancellationToken ct) =>
        WriteAsync(() => inner.PruneRoomChangesAsync(beforeTs, ct));
}
