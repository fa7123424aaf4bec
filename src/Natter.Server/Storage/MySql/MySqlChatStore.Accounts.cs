namespace Natter.Server.Storage.MySql;

/// <summary>Accounts of protocol v2 §5 (<see cref="IAccountStore"/>); the shared SQL is in <see cref="AccountSql"/>.</summary>
public sealed partial class MySqlChatStore
{
    public async Task<Profile?> FindProfileAsync(string username, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.FindProfileAsync(conn, username, ct);
    }

    public async Task<IReadOnlyList<Profile>> ListProfilesAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.ListProfilesAsync(conn, limit, ct);
    }

    public async Task<IReadOnlyList<Profile>> FindProfilesAsync(IReadOnlyCollection<long> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0)
        {
            return [];
        }

        await using var conn = await OpenAsync(ct);
        return await AccountSql.FindProfilesAsync(conn, userIds, ct);
    }

    public async Task<IReadOnlyList<Profile>> SearchProfilesAsync(string query, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.SearchProfilesAsync(conn, query, limit, ct);
    }

    public async Task SetDisplayNameAsync(long userId, string displayName, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await AccountSql.SetDisplayNameAsync(conn, userId, displayName, ct);
    }

    public async Task SetAvatarAsync(long userId, string? fileId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await AccountSql.SetAvatarAsync(conn, userId, fileId, ct);
    }

    public async Task SetPasswordHashAsync(long userId, string passwordHash, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await AccountSql.SetPasswordHashAsync(conn, userId, passwordHash, ct);
    }

    public async Task<bool> SetStatusAsync(long userId, string status, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.SetStatusAsync(conn, userId, status, ct);
    }

    public async Task<long> StartSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, string? userAgent, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await InsertAsync(conn, AccountSql.InsertSession, ct,
            ("@h", tokenHash), ("@u", userId), ("@c", Now), ("@e", expiresAt.ToUnixTimeMilliseconds()), ("@a", userAgent));
    }

    public async Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(long userId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.ListSessionsAsync(conn, userId, now, ct);
    }

    public async Task TouchSessionAsync(long sessionId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await AccountSql.TouchSessionAsync(conn, sessionId, now, ct);
    }

    public async Task<bool> DeleteSessionOfUserAsync(long userId, long sessionId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.DeleteSessionOfUserAsync(conn, userId, sessionId, ct);
    }

    public async Task<IReadOnlyList<long>> DeleteSessionsOfUserAsync(long userId, long? keepSessionId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.DeleteSessionsOfUserAsync(conn, userId, keepSessionId, ct);
    }

    public async Task<bool> BlockAsync(long blockerId, long blockedId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteAsync("INSERT IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (@a, @b, @t)", ct,
            ("@a", blockerId), ("@b", blockedId), ("@t", Now)) == 1;
    }

    public async Task<bool> UnblockAsync(long blockerId, long blockedId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.UnblockAsync(conn, blockerId, blockedId, ct);
    }

    public async Task<IReadOnlyList<string>> ListBlockedAsync(long blockerId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.ListBlockedAsync(conn, blockerId, ct);
    }

    public async Task<int> CountBlockedAsync(long blockerId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.CountBlockedAsync(conn, blockerId, ct);
    }

    public async Task<bool> IsBlockedAsync(long blockerId, long blockedId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await AccountSql.IsBlockedAsync(conn, blockerId, blockedId, ct);
    }
}
