namespace Natter.Server.Storage.Sqlite;

/// <summary>Users and sessions.</summary>
public sealed partial class SqliteChatStore
{
    public async Task<long?> CreateUserAsync(string username, string passwordHash, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ScalarAsync(
            "INSERT INTO users (username, password_hash, status, created_at) VALUES (@u, @h, 'active', @t) ON CONFLICT(username) DO NOTHING RETURNING id",
            ct, ("@u", username), ("@h", passwordHash), ("@t", Now)) as long?;
    }

    public async Task<IReadOnlyList<RoomMember>> FindUsersAsync(IReadOnlyCollection<string> usernames, CancellationToken ct)
    {
        var found = new List<RoomMember>();
        if (usernames.Count == 0)
        {
            return found;
        }

        await using var conn = await OpenAsync(ct);
        foreach (var chunk in usernames.Chunk(500))
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
        return (long)(await conn.ScalarAsync(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (@h, @u, @c, @e) RETURNING id",
            ct, ("@h", tokenHash), ("@u", userId), ("@c", Now), ("@e", expiresAt.ToUnixTimeMilliseconds())))!;
    }

    public async Task DeleteSessionAsync(long sessionId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("DELETE FROM sessions WHERE id = @id", ct, ("@id", sessionId));
    }

    public async Task<IReadOnlyList<long>> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync("DELETE FROM sessions WHERE expires_at <= @n RETURNING id", r => r.GetInt64(0), ct, ("@n", now.ToUnixTimeMilliseconds()));
    }
}
