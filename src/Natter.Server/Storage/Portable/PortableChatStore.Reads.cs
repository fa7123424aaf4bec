namespace Natter.Server.Storage.Portable;

/// <summary>Reads (and leaving a room) whose SQL both engines run alike: users, sessions, rooms and members.</summary>
public abstract partial class PortableChatStore
{
    public async Task<User?> FindUserAsync(string username, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.FirstOrDefaultAsync("SELECT id, username, password_hash, status FROM users WHERE username = @u", Rows.User, ct, ("@u", username));
    }

    public async Task<IReadOnlyList<string>> ListUsernamesAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync("SELECT username FROM users WHERE status = 'active' ORDER BY username LIMIT @l", Rows.FirstString, ct, ("@l", limit));
    }

    public async Task<Session?> FindSessionAsync(byte[] tokenHash, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.FirstOrDefaultAsync(
            """
            SELECT s.id, s.user_id, u.username, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = @h AND s.expires_at > @n AND u.status = 'active'
            """,
            Rows.Session, ct, ("@h", tokenHash), ("@n", now.ToUnixTimeMilliseconds()));
    }

    public async Task<Room?> FindRoomAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.FirstOrDefaultAsync("SELECT id, name, kind FROM rooms WHERE id = @id AND deleted_at IS NULL", Rows.Room, ct, ("@id", roomId));
    }

    public async Task<long> GetLastSeqAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ScalarAsync("SELECT last_seq FROM rooms WHERE id = @r", ct, ("@r", roomId)) as long? ?? 0;
    }

    public async Task<bool> LeaveAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        if (await conn.ScalarAsync("SELECT 1 FROM rooms WHERE id = @r", ct, ("@r", roomId)) is null)
        {
            return false;
        }

        await conn.ExecuteAsync("DELETE FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId));
        return true;
    }

    public async Task<IReadOnlyList<RoomMember>> ListMembersAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(
            "SELECT m.user_id, u.username FROM members m JOIN users u ON u.id = m.user_id WHERE m.room_id = @r",
            Rows.Member, ct, ("@r", roomId));
    }

    public async Task<IReadOnlyList<PublicRoom>> ListPublicRoomsAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(
            """
            SELECT r.id, r.name, (SELECT COUNT(*) FROM members m WHERE m.room_id = r.id)
            FROM rooms r WHERE r.kind = 'group' AND r.visibility = 'public' AND r.deleted_at IS NULL ORDER BY r.created_at DESC, r.id LIMIT @l
            """,
            Rows.PublicRoom, ct, ("@l", limit));
    }

    public async Task<IReadOnlyList<MyRoom>> ListRoomsOfUserAsync(long userId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
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
}
