using System.Data;
using System.Data.Common;

namespace Natter.Server.Storage.Portable;

/// <summary>
/// Roles, room settings, bans, deleting rooms and the membership change log (protocol v2 §4, <see cref="IRoomAdminStore"/>);
/// the SQL text that reads the same on both engines is in <see cref="RoomSql"/>.
/// </summary>
public abstract partial class PortableChatStore : IRoomAdminStore
{
    public async Task<Room> CreateGroupRoomAsync(string name, string topic, string visibility, long ownerId, CancellationToken ct)
    {
        var id = RoomIds.New();
        await using var conn = await OpenConnectionAsync(ct);
        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.Unspecified, ct);
        await tx.ExecuteAsync(
            "INSERT INTO rooms (id, name, kind, topic, visibility, created_by, created_at) VALUES (@id, @n, 'group', @topic, @v, @u, @t)", ct,
            ("@id", id), ("@n", name), ("@topic", topic), ("@v", visibility), ("@u", ownerId), ("@t", Now));
        await tx.ExecuteAsync("INSERT INTO members (room_id, user_id, read_seq, joined_at, role) VALUES (@r, @u, 0, @t, 'owner')", ct,
            ("@r", id), ("@u", ownerId), ("@t", Now));
        await tx.CommitAsync(ct);
        return new Room(id, name, RoomKinds.Group);
    }

    public async Task<RoomInfo?> GetRoomInfoAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.FirstOrDefaultAsync(RoomSql.Info, RoomSql.ReadInfo, ct, ("@r", roomId));
    }

    public async Task<string?> GetRoleAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ScalarAsync("SELECT role FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId)) as string;
    }

    public async Task<IReadOnlyList<MemberInfo>> ListMembersWithRolesAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(RoomSql.MembersWithRoles, RoomSql.ReadMember, ct, ("@r", roomId));
    }

    /// <summary>
    /// Where rows are locked, the room row first (as the group commit locks it), so two joins on two nodes cannot both
    /// take the last place; false when there is no such room. With one writer there is nothing to lock: true.
    /// </summary>
    private async Task<bool> LockRoomAsync(DbTransaction tx, string roomId, CancellationToken ct) =>
        !LocksRows || await tx.ScalarAsync("SELECT id FROM rooms WHERE id = @r" + ForUpdate, ct, ("@r", roomId)) is not null;

    public async Task<AddMemberOutcome> AddMemberAsync(string roomId, long userId, bool invited, int maxMembers, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
        if (!await LockRoomAsync(tx, roomId, ct))
        {
            return AddMemberOutcome.NotFound;
        }

        var room = (await tx.ListAsync(RoomSql.AddCheck, RoomSql.ReadAddCheck, ct, ("@r", roomId), ("@u", userId))).FirstOrDefault();
        var outcome = RoomSql.Decide(room, invited, maxMembers);
        if (outcome != AddMemberOutcome.Added)
        {
            return outcome;
        }

        await tx.ExecuteAsync("INSERT INTO members (room_id, user_id, read_seq, joined_at, role) VALUES (@r, @u, (SELECT last_seq FROM rooms WHERE id = @r), @t, 'member')", ct,
            ("@r", roomId), ("@u", userId), ("@t", Now));
        await tx.CommitAsync(ct);
        return AddMemberOutcome.Added;
    }

    public async Task<(bool Removed, MemberInfo? Successor)> RemoveMemberAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
        await LockRoomAsync(tx, roomId, ct);
        var role = await tx.ScalarAsync("SELECT role FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId)) as string;
        if (role is null)
        {
            return (false, null);
        }

        await tx.ExecuteAsync("DELETE FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId));
        MemberInfo? successor = null;
        if (role == RoomRoles.Owner)
        {
            successor = (await tx.ListAsync(RoomSql.Successor, RoomSql.ReadMember, ct, ("@r", roomId))).FirstOrDefault();
            if (successor is not null)
            {
                await tx.ExecuteAsync("UPDATE members SET role = 'owner' WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", successor.UserId));
                successor = successor with { Role = RoomRoles.Owner };
            }
        }

        await tx.CommitAsync(ct);
        return (true, successor);
    }

    public async Task<bool> BanAsync(string roomId, long userId, long byUserId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
        await tx.ExecuteAsync(InsertIgnoringDuplicate("INSERT INTO room_bans (room_id, user_id, banned_by, banned_at) VALUES (@r, @u, @b, @t)"), ct,
            ("@r", roomId), ("@u", userId), ("@b", byUserId), ("@t", Now));
        var removed = await tx.ExecuteAsync("DELETE FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId)) == 1;
        await tx.CommitAsync(ct);
        return removed;
    }

    public async Task<bool> UnbanAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ExecuteAsync("DELETE FROM room_bans WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId)) == 1;
    }

    public async Task<bool> IsBannedAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ScalarAsync("SELECT 1 FROM room_bans WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId)) is not null;
    }

    public async Task<IReadOnlyList<string>> ListBansAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(RoomSql.Bans, Rows.FirstString, ct, ("@r", roomId));
    }

    /// <summary>
    /// Sets a member's role; false (nothing changed) when the user is not a member. Where an UPDATE may not count a
    /// row it leaves unchanged (<see cref="UpdateCountsMatchedRows"/>), membership is read first, locked inside a transaction.
    /// </summary>
    private async Task<bool> SetMemberRoleAsync(DbConnection conn, DbTransaction? tx, string roomId, long userId, string role, CancellationToken ct)
    {
        if (!UpdateCountsMatchedRows && await ScalarInAsync(conn, tx, "SELECT 1 FROM members WHERE room_id = @r AND user_id = @u" + (tx is null ? "" : ForUpdate), ct,
                ("@r", roomId), ("@u", userId)) is null)
        {
            return false;
        }

        var updated = await ExecuteInAsync(conn, tx, "UPDATE members SET role = @role WHERE room_id = @r AND user_id = @u", ct,
            ("@role", role), ("@r", roomId), ("@u", userId));
        return !UpdateCountsMatchedRows || updated == 1;
    }

    public async Task<bool> SetRoleAsync(string roomId, long userId, string role, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await SetMemberRoleAsync(conn, null, roomId, userId, role, ct);
    }

    public async Task<bool> HandOverAsync(string roomId, long fromUserId, long toUserId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
        if (!await SetMemberRoleAsync(conn, tx, roomId, toUserId, RoomRoles.Owner, ct))
        {
            return false;
        }

        await tx.ExecuteAsync("UPDATE members SET role = 'moderator' WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", fromUserId));
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<RoomInfo?> UpdateRoomAsync(string roomId, string? name, string? topic, string? visibility, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
        await tx.ExecuteAsync(RoomSql.Update, ct, ("@r", roomId), ("@n", name), ("@topic", topic), ("@v", visibility));
        var info = (await tx.ListAsync(RoomSql.Info, RoomSql.ReadInfo, ct, ("@r", roomId))).FirstOrDefault();
        await tx.CommitAsync(ct);
        return info;
    }

    public async Task<IReadOnlyList<long>> DeleteRoomAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await using (var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct))
        {
            // Locked as the group commit locks it: an append to this room waits, then finds no members' messages to keep.
            if (await tx.ScalarAsync("SELECT id FROM rooms WHERE id = @r AND deleted_at IS NULL" + ForUpdate, ct, ("@r", roomId)) is null)
            {
                return [];
            }

            var members = await tx.ListAsync("SELECT user_id FROM members WHERE room_id = @r", r => r.GetInt64(0), ct, ("@r", roomId));
            // The files its messages list go with them: each one no other room's message lists is freed (the sweeper
            // removes its bytes), as when the messages are deleted one by one. Their rows are locked in id order, as
            // a deletion in the group commit locks them.
            var files = (await tx.ListAsync("SELECT f.id FROM message_files mf JOIN files f ON f.id = mf.file_id WHERE mf.room_id = @r ORDER BY f.id" + ForUpdate,
                Rows.FirstString, ct, ("@r", roomId))).Distinct(StringComparer.Ordinal).ToList();
            await tx.ExecuteAsync("DELETE FROM message_files WHERE room_id = @r", ct, ("@r", roomId));
            foreach (var file in files)
            {
                await tx.ExecuteAsync(FileRows.FreeIfUnlisted, ct, ("@f", file));
            }

            await DeletingRoomContentAsync(tx, roomId, ct);
            foreach (var sql in RoomSql.DeleteContent)
            {
                await tx.ExecuteAsync(sql, ct, ("@r", roomId), ("@t", Now));
            }

            await tx.CommitAsync(ct);
            await AfterRoomDeletedAsync(conn, ct);
            return members;
        }
    }

    public async Task<long> AppendRoomChangeAsync(string roomId, string payload, long ts, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await InsertReturningIdAsync(conn, "INSERT INTO room_changes (room_id, payload, ts) VALUES (@r, @p, @t)", ct,
            ("@r", roomId), ("@p", payload), ("@t", ts));
    }

    public async Task<IReadOnlyList<RoomChangeRow>> ReadRoomChangesAsync(long afterId, long sinceTs, int limit, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(RoomSql.Changes, RoomSql.ReadChange, ct, ("@a", afterId), ("@s", sinceTs), ("@l", limit));
    }

    public async Task<int> PruneRoomChangesAsync(long beforeTs, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ExecuteAsync("DELETE FROM room_changes WHERE ts < @t", ct, ("@t", beforeTs));
    }
}
