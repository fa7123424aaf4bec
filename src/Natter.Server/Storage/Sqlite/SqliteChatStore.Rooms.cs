using System.Data.Common;

namespace Natter.Server.Storage.Sqlite;

/// <summary>Rooms, members, read markers.</summary>
public sealed partial class SqliteChatStore
{
    public async Task<Room> CreateRoomAsync(string name, long creatorId, CancellationToken ct)
    {
        var id = RoomIds.New();
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, created_by, created_at) VALUES (@id, @n, 'group', @u, @t)", ct,
            ("@id", id), ("@n", name), ("@u", creatorId), ("@t", Now));
        await AddMemberAsync(tx, id, creatorId, ct);
        await tx.ExecuteAsync("UPDATE members SET role = 'owner' WHERE room_id = @r AND user_id = @u", ct, ("@r", id), ("@u", creatorId));
        await tx.CommitAsync(ct);
        return new Room(id, name, RoomKinds.Group);
    }

    /// <summary>Adds a member; true when the row is new.</summary>
    private async Task<bool> AddMemberAsync(DbTransaction tx, string roomId, long userId, CancellationToken ct) =>
        await tx.ExecuteAsync("INSERT INTO members (room_id, user_id, read_seq, joined_at) VALUES (@r, @u, 0, @t) ON CONFLICT DO NOTHING", ct,
            ("@r", roomId), ("@u", userId), ("@t", Now)) == 1;

    public async Task<Room?> FindRoomAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.FirstOrDefaultAsync("SELECT id, name, kind FROM rooms WHERE id = @id AND deleted_at IS NULL", Rows.Room, ct, ("@id", roomId));
    }

    public async Task<IReadOnlyList<RoomMember>> ListMembersAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            "SELECT m.user_id, u.username FROM members m JOIN users u ON u.id = m.user_id WHERE m.room_id = @r",
            Rows.Member, ct, ("@r", roomId));
    }

    public async Task<IReadOnlyList<MyRoom>> ListRoomsOfUserAsync(long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            """
            SELECT r.id,
                   CASE WHEN r.kind = 'direct'
                        THEN (SELECT username FROM users WHERE id = CASE WHEN r.user_a = @u THEN r.user_b ELSE r.user_a END)
                        ELSE r.name END,
                   r.kind, r.last_seq, m.read_seq,
                   (SELECT COUNT(*) FROM mentions x WHERE x.user_id = @u AND x.room_id = r.id AND x.seq > m.read_seq),
                   r.topic, r.visibility, m.role, (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id)
            FROM members m JOIN rooms r ON r.id = m.room_id
            WHERE m.user_id = @u
            ORDER BY r.created_at, r.id
            """,
            Rows.MyRoomWithMentions, ct, ("@u", userId));
    }

    public async Task<IReadOnlyList<PublicRoom>> ListPublicRoomsAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            """
            SELECT r.id, r.name, (SELECT COUNT(*) FROM members m WHERE m.room_id = r.id)
            FROM rooms r WHERE r.kind = 'group' AND r.visibility = 'public' AND r.deleted_at IS NULL ORDER BY r.created_at DESC, r.id LIMIT @l
            """,
            Rows.PublicRoom, ct, ("@l", limit));
    }

    public async Task<JoinOutcome> JoinAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        switch (await tx.ScalarAsync("SELECT kind FROM rooms WHERE id = @r", ct, ("@r", roomId)) as string)
        {
            case null:
                return JoinOutcome.NotFound;
            case RoomKinds.Direct:
                return JoinOutcome.DirectRoom;
        }

        var added = await AddMemberAsync(tx, roomId, userId, ct);
        await tx.CommitAsync(ct);
        return added ? JoinOutcome.Joined : JoinOutcome.AlreadyMember;
    }

    public async Task<bool> LeaveAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        if (await conn.ScalarAsync("SELECT 1 FROM rooms WHERE id = @r", ct, ("@r", roomId)) is null)
        {
            return false;
        }

        await conn.ExecuteAsync("DELETE FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId));
        return true;
    }

    public async Task<DirectRoomResult> GetOrCreateDirectRoomAsync(long userA, long userB, CancellationToken ct)
    {
        var (a, b) = userA < userB ? (userA, userB) : (userB, userA);
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var id = await tx.ScalarAsync("SELECT id FROM rooms WHERE user_a = @a AND user_b = @b", ct, ("@a", a), ("@b", b)) as string;
        var created = id is null;
        if (id is null)
        {
            id = RoomIds.New();
            await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, user_a, user_b, created_by, created_at) VALUES (@id, '', 'direct', @a, @b, @c, @t)", ct,
                ("@id", id), ("@a", a), ("@b", b), ("@c", userA), ("@t", Now));
        }

        var added = await AddMemberAsync(tx, id, a, ct);
        added |= await AddMemberAsync(tx, id, b, ct);
        await tx.CommitAsync(ct);
        return new DirectRoomResult(new Room(id, "", RoomKinds.Direct), created, added);
    }

    public async Task<long> GetLastSeqAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ScalarAsync("SELECT last_seq FROM rooms WHERE id = @r", ct, ("@r", roomId)) as long? ?? 0;
    }

    public async Task<long?> MarkReadAsync(string roomId, long userId, long seq, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ScalarAsync(
            """
            UPDATE members SET read_seq = MIN(@s, (SELECT last_seq FROM rooms WHERE id = @r))
            WHERE room_id = @r AND user_id = @u AND read_seq < MIN(@s, (SELECT last_seq FROM rooms WHERE id = @r))
            RETURNING read_seq
            """,
            ct, ("@r", roomId), ("@u", userId), ("@s", seq)) as long?;
    }
}
