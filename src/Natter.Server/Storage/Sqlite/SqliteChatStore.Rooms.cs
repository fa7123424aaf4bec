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
