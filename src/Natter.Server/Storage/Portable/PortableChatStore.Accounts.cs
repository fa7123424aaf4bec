using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Natter.Server.Storage.Portable;

/// <summary>Accounts of protocol v2 §5 (<see cref="IAccountStore"/>): standard SQL with <c>@</c> parameters.</summary>
public abstract partial class PortableChatStore : IAccountStore
{
    /// <summary>The columns <see cref="ReadProfile"/> reads from users.</summary>
    private const string ProfileColumns = "id, username, COALESCE(display_name, username), avatar_file, status";

    private static Profile ReadProfile(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4));

    private static SessionInfo ReadSession(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.IsDBNull(2) ? r.GetInt64(1) : r.GetInt64(2), r.IsDBNull(3) ? null : r.GetString(3));

    public async Task<Profile?> FindProfileAsync(string username, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.FirstOrDefaultAsync($"SELECT {ProfileColumns} FROM users WHERE username = @u", ReadProfile, ct, ("@u", username));
    }

    public async Task<IReadOnlyList<Profile>> ListProfilesAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync($"SELECT {ProfileColumns} FROM users WHERE status = 'active' ORDER BY username LIMIT @l", ReadProfile, ct, ("@l", limit));
    }

    public async Task<IReadOnlyList<Profile>> FindProfilesAsync(IReadOnlyCollection<long> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0)
        {
            return [];
        }

        await using var conn = await OpenConnectionAsync(ct);
        var found = new List<Profile>();
        foreach (var chunk in userIds.Distinct().Chunk(300))
        {
            var names = chunk.Select((_, i) => "@i" + i).ToArray();
            found.AddRange(await conn.ListAsync($"SELECT {ProfileColumns} FROM users WHERE id IN ({string.Join(", ", names)})",
                ReadProfile, ct, [.. chunk.Select((id, i) => (names[i], (object?)id))]));
        }

        return found;
    }

    /// <summary>
    /// LIKE with '!' as the escape character (a backslash means different things in MySQL and SQLite string literals);
    /// both sides lower-cased, as MySQL's utf8mb4_bin compares case-sensitively and SQLite's LIKE folds ASCII only.
    /// </summary>
    public async Task<IReadOnlyList<Profile>> SearchProfilesAsync(string query, int limit, CancellationToken ct)
    {
        var pattern = "%" + EscapeLike(query.ToLowerInvariant()) + "%";
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(
            $"""
            SELECT {ProfileColumns} FROM users
            WHERE username LIKE @p ESCAPE '!' OR LOWER(COALESCE(display_name, '')) LIKE @p ESCAPE '!'
            ORDER BY username LIMIT @l
            """,
            ReadProfile, ct, ("@p", pattern), ("@l", limit));
    }

    private static string EscapeLike(string s)
    {
        var b = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            if (c is '%' or '_' or '!')
            {
                b.Append('!');
            }

            b.Append(c);
        }

        return b.ToString();
    }

    public async Task SetDisplayNameAsync(long userId, string displayName, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await conn.ExecuteAsync("UPDATE users SET display_name = @d WHERE id = @u", ct, ("@d", displayName), ("@u", userId));
    }

    /// <summary>
    /// The file row is locked first (MySQL), as the sweep's <see cref="FreeUnattachedFilesAsync"/> locks it before
    /// freeing: either the avatar is set on a ready file (and the sweep then sees it and keeps the file), or the file
    /// was freed first and the avatar is refused. SQLite's single writer gives the same order.
    /// </summary>
    public async Task<bool> SetAvatarAsync(long userId, string? fileId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        if (fileId is null)
        {
            await conn.ExecuteAsync("UPDATE users SET avatar_file = NULL WHERE id = @u", ct, ("@u", userId));
            return true;
        }

        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
        if (await ScalarInAsync(conn, tx, "SELECT id FROM files WHERE id = @f AND state = 'ready'" + ForUpdate, ct, ("@f", fileId)) is null)
        {
            return false;
        }

        await ExecuteInAsync(conn, tx, "UPDATE users SET avatar_file = @f WHERE id = @u", ct, ("@f", fileId), ("@u", userId));
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task SetPasswordHashAsync(long userId, string passwordHash, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await conn.ExecuteAsync("UPDATE users SET password_hash = @h WHERE id = @u", ct, ("@h", passwordHash), ("@u", userId));
    }

    /// <summary>Existence is read first on every store, as MySQL may count only changed rows in an UPDATE.</summary>
    public async Task<bool> SetStatusAsync(long userId, string status, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        if (await conn.ScalarAsync("SELECT 1 FROM users WHERE id = @u", ct, ("@u", userId)) is null)
        {
            return false;
        }

        await conn.ExecuteAsync("UPDATE users SET status = @s WHERE id = @u", ct, ("@s", status), ("@u", userId));
        return true;
    }

    public async Task<bool> IsSessionLiveAsync(long sessionId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ScalarAsync(
            "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = @s AND u.status = 'active'",
            ct, ("@s", sessionId)) is not null;
    }

    public async Task<long> StartSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, string? userAgent, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await InsertReturningIdAsync(conn,
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen, user_agent) VALUES (@h, @u, @c, @e, @c, @a)", ct,
            ("@h", tokenHash), ("@u", userId), ("@c", Now), ("@e", expiresAt.ToUnixTimeMilliseconds()), ("@a", userAgent));
    }

    public async Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(long userId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(
            "SELECT id, created_at, last_seen, user_agent FROM sessions WHERE user_id = @u AND expires_at > @n ORDER BY id DESC",
            ReadSession, ct, ("@u", userId), ("@n", now.ToUnixTimeMilliseconds()));
    }

    /// <summary>Only forward: two nodes touching the same session never move last_seen back.</summary>
    public async Task TouchSessionAsync(long sessionId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await conn.ExecuteAsync("UPDATE sessions SET last_seen = @n WHERE id = @id AND (last_seen IS NULL OR last_seen < @n)", ct,
            ("@n", now.ToUnixTimeMilliseconds()), ("@id", sessionId));
    }

    public async Task<bool> DeleteSessionOfUserAsync(long userId, long sessionId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ExecuteAsync("DELETE FROM sessions WHERE id = @id AND user_id = @u", ct, ("@id", sessionId), ("@u", userId)) == 1;
    }

    /// <summary>
    /// Reads the ids, then deletes those (no DELETE … RETURNING in MySQL 8). A session created after the read is
    /// kept: it was started after the change that revokes the others (a new password, a disabled account).
    /// </summary>
    public async Task<IReadOnlyList<long>> DeleteSessionsOfUserAsync(long userId, long? keepSessionId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        var ids = await conn.ListAsync("SELECT id FROM sessions WHERE user_id = @u AND id <> @k ORDER BY id", r => r.GetInt64(0), ct,
            ("@u", userId), ("@k", keepSessionId ?? 0));
        if (ids.Count > 0)
        {
            await conn.ExecuteAsync("DELETE FROM sessions WHERE user_id = @u AND id <> @k AND id <= @max", ct,
                ("@u", userId), ("@k", keepSessionId ?? 0), ("@max", ids[^1]));
        }

        return ids;
    }

    public async Task<bool> BlockAsync(long blockerId, long blockedId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(InsertIgnoringDuplicate("INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (@a, @b, @t)"), ct,
            ("@a", blockerId), ("@b", blockedId), ("@t", Now)) == 1;
    }

    public async Task<bool> UnblockAsync(long blockerId, long blockedId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ExecuteAsync("DELETE FROM blocks WHERE blocker_id = @a AND blocked_id = @b", ct, ("@a", blockerId), ("@b", blockedId)) == 1;
    }

    public async Task<IReadOnlyList<string>> ListBlockedAsync(long blockerId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync("SELECT u.username FROM blocks b JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = @a ORDER BY u.username",
            Rows.FirstString, ct, ("@a", blockerId));
    }

    public async Task<int> CountBlockedAsync(long blockerId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return Convert.ToInt32(await conn.ScalarAsync("SELECT COUNT(*) FROM blocks WHERE blocker_id = @a", ct, ("@a", blockerId)), CultureInfo.InvariantCulture);
    }

    public async Task<bool> IsBlockedAsync(long blockerId, long blockedId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ScalarAsync("SELECT 1 FROM blocks WHERE blocker_id = @a AND blocked_id = @b", ct, ("@a", blockerId), ("@b", blockedId)) is not null;
    }
}
