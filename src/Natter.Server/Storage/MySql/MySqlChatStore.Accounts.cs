using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>Users and sessions.</summary>
public sealed partial class MySqlChatStore
{
    public async Task<long?> CreateUserAsync(string username, string passwordHash, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        try
        {
            return await InsertAsync(conn, "INSERT INTO users (username, password_hash, status, created_at) VALUES (@u, @h, 'active', @t)", ct,
                ("@u", username), ("@h", passwordHash), ("@t", Now));
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<RoomMember>> FindUsersAsync(IReadOnlyCollection<string> usernames, CancellationToken ct)
    {
        var found = new List<RoomMember>();
        if (usernames.Count == 0)
        {
            return found;
        }

        await using var conn = await OpenAsync(ct);
        foreach (var chunk in usernames.Chunk(LookupChunk))
        {
            var names = chunk.Select((_, i) => "@n" + i).ToArray();
            found.AddRange(await conn.ListAsync($"SELECT id, username FROM users WHERE username IN ({string.Join(", ", names)})",
                Rows.Member, ct, [.. chunk.Select((n, i) => (names[i], (object?)n))]));
        }

        return found;
    }

    public async Task<long> CreateSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await InsertAsync(conn, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (@h, @u, @c, @e)", ct,
            ("@h", tokenHash), ("@u", userId), ("@c", Now), ("@e", expiresAt.ToUnixTimeMilliseconds()));
    }

    public async Task DeleteSessionAsync(long sessionId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("DELETE FROM sessions WHERE id = @id", ct, ("@id", sessionId));
    }

    public async Task<IReadOnlyList<long>> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct)
    {
        // MySQL 8 has no DELETE … RETURNING. Rows only ever cross "expires_at <= now" as time passes, and now is fixed
        // here, so the rows read are the rows deleted (a concurrent sweep on another node may delete some first).
        await using var conn = await OpenAsync(ct);
        var ids = await conn.ListAsync("SELECT id FROM sessions WHERE expires_at <= @n", r => r.GetInt64(0), ct, ("@n", now.ToUnixTimeMilliseconds()));
        if (ids.Count > 0)
        {
            await conn.ExecuteAsync("DELETE FROM sessions WHERE expires_at <= @n", ct, ("@n", now.ToUnixTimeMilliseconds()));
        }

        return ids;
    }
}
