using System.Data;
using System.Data.Common;
using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>Rooms, their members and read positions: creating and joining rooms, direct rooms, listing.</summary>
public sealed partial class MySqlChatStore
{
    public async Task<Room> CreateRoomAsync(string name, long creatorId, CancellationToken ct)
    {
        var id = RoomIds.New();
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.Unspecified, ct);
        await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, created_by, created_at) VALUES (@id, @n, 'group', @u, @t)", ct,
            ("@id", id), ("@n", name), ("@u", creatorId), ("@t", Now));
        await AddMemberAsync(tx, id, creatorId, ct);
        await tx.ExecuteAsync("UPDATE members SET role = 'owner' WHERE room_id = @r AND user_id = @u", ct, ("@r", id), ("@u", creatorId));
        await tx.CommitAsync(ct);
        return new Room(id, name, RoomKinds.Group);
    }

    /// <summary>Adds a member; true when the row is new. A duplicate key fails only the statement, not the transaction.</summary>
    private async Task<bool> AddMemberAsync(DbTransaction tx, string roomId, long userId, CancellationToken ct)
    {
        try
        {
            return await tx.ExecuteAsync("INSERT INTO members (room_id, user_id, read_seq, joined_at) VALUES (@r, @u, 0, @t)", ct,
                ("@r", roomId), ("@u", userId), ("@t", Now)) == 1;
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return false;
        }
    }

    public async Task<JoinOutcome> JoinAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.Unspecified, ct);
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

        // Two nodes may create the same pair's room at once: the unique (user_a, user_b) key lets one win, and the
        // other finds the winner's room on its next attempt.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await DirectRoomOnceAsync(a, b, userA, ct);
            }
            catch (MySqlException e) when (attempt < MaxAttempts && (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry || IsRetryable(e)))
            {
                Log.StoreRetry(_logger, "direct room", attempt, e.ErrorCode.ToString());
                await Task.Delay(Backoff(attempt), ct);
            }
        }
    }

    private async Task<DirectRoomResult> DirectRoomOnceAsync(long a, long b, long creator, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.ReadCommitted, ct);
        var id = await tx.ScalarAsync("SELECT id FROM rooms WHERE user_a = @a AND user_b = @b", ct, ("@a", a), ("@b", b)) as string;
        var created = id is null;
        if (id is null)
        {
            id = RoomIds.New();
            await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, user_a, user_b, created_by, created_at) VALUES (@id, '', 'direct', @a, @b, @c, @t)", ct,
                ("@id", id), ("@a", a), ("@b", b), ("@c", creator), ("@t", Now));
        }

        var added = await AddMemberAsync(tx, id, a, ct);
        added |= await AddMemberAsync(tx, id, b, ct);
        await tx.CommitAsync(ct);
        return new DirectRoomResult(new Room(id, "", RoomKinds.Direct), created, added);
    }

    public async Task<long?> MarkReadAsync(string roomId, long userId, long seq, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.ReadCommitted, ct);
        var moved = await tx.ExecuteAsync(
            """
            UPDATE members m JOIN rooms r ON r.id = m.room_id
            SET m.read_seq = LEAST(@s, r.last_seq)
            WHERE m.room_id = @r AND m.user_id = @u AND m.read_seq < LEAST(@s, r.last_seq)
            """,
            ct, ("@r", roomId), ("@u", userId), ("@s", seq));
        if (moved == 0)
        {
            await tx.RollbackAsync(ct);
            return null;
        }

        var now = await tx.ScalarAsync("SELECT read_seq FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId)) as long?;
        await tx.CommitAsync(ct);
        return now;
    }
}
