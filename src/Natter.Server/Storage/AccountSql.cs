using System.Data.Common;
using System.Text;

namespace Natter.Server.Storage;

/// <summary>
/// The account queries both stores run alike (standard SQL with <c>@</c> parameters over DbConnection); each store
/// keeps only what differs (inserting without a duplicate, deleting with the ids back).
/// </summary>
internal static class AccountSql
{
    /// <summary>The columns <see cref="Profile"/> reads from users.</summary>
    private const string ProfileColumns = "id, username, COALESCE(display_name, username), avatar_file, status";

    private static Profile ReadProfile(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4));

    private static SessionInfo ReadSession(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.IsDBNull(2) ? r.GetInt64(1) : r.GetInt64(2), r.IsDBNull(3) ? null : r.GetString(3));

    public static Task<Profile?> FindProfileAsync(DbConnection conn, string username, CancellationToken ct) =>
        conn.FirstOrDefaultAsync($"SELECT {ProfileColumns} FROM users WHERE username = @u", ReadProfile, ct, ("@u", username));

    public static async Task<IReadOnlyList<Profile>> ListProfilesAsync(DbConnection conn, int limit, CancellationToken ct) =>
        await conn.ListAsync($"SELECT {ProfileColumns} FROM users WHERE status = 'active' ORDER BY username LIMIT @l", ReadProfile, ct, ("@l", limit));

    public static async Task<IReadOnlyList<Profile>> FindProfilesAsync(DbConnection conn, IReadOnlyCollection<long> userIds, CancellationToken ct)
    {
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
    public static async Task<IReadOnlyList<Profile>> SearchProfilesAsync(DbConnection conn, string query, int limit, CancellationToken ct)
    {
        var pattern = "%" + EscapeLike(query.ToLowerInvariant()) + "%";
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

    public static Task<int> SetDisplayNameAsync(DbConnection conn, long userId, string displayName, CancellationToken ct) =>
        conn.ExecuteAsync("UPDATE users SET display_name = @d WHERE id = @u", ct, ("@d", displayName), ("@u", userId));

    public static Task<int> SetAvatarAsync(DbConnection conn, long userId, string? fileId, CancellationToken ct) =>
        conn.ExecuteAsync("UPDATE users SET avatar_file = @f WHERE id = @u", ct, ("@f", fileId), ("@u", userId));

    public static Task<int> SetPasswordHashAsync(DbConnection conn, long userId, string hash, CancellationToken ct) =>
        conn.ExecuteAsync("UPDATE users SET password_hash = @h WHERE id = @u", ct, ("@h", hash), ("@u", userId));

    /// <summary>Whether the user exists (MySQL counts only changed rows in an UPDATE, so existence is read first).</summary>
    public static async Task<bool> SetStatusAsync(DbConnection conn, long userId, string status, CancellationToken ct)
    {
        if (await conn.ScalarAsync("SELECT 1 FROM users WHERE id = @u", ct, ("@u", userId)) is null)
        {
            return false;
        }

        await conn.ExecuteAsync("UPDATE users SET status = @s WHERE id = @u", ct, ("@s", status), ("@u", userId));
        return true;
    }

    public const string InsertSession =
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen, user_agent) VALUES (@h, @u, @c, @e, @c, @a)";

    public static async Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(DbConnection conn, long userId, DateTimeOffset now, CancellationToken ct) =>
        await conn.ListAsync(
            "SELECT id, created_at, last_seen, user_agent FROM sessions WHERE user_id = @u AND expires_at > @n ORDER BY id DESC",
            ReadSession, ct, ("@u", userId), ("@n", now.ToUnixTimeMilliseconds()));

    /// <summary>Only forward: two nodes touching the same session never move last_seen back.</summary>
    public static Task<int> TouchSessionAsync(DbConnection conn, long sessionId, DateTimeOffset now, CancellationToken ct) =>
        conn.ExecuteAsync("UPDATE sessions SET last_seen = @n WHERE id = @id AND (last_seen IS NULL OR last_seen < @n)", ct,
            ("@n", now.ToUnixTimeMilliseconds()), ("@id", sessionId));

    public static async Task<bool> DeleteSessionOfUserAsync(DbConnection conn, long userId, long sessionId, CancellationToken ct) =>
        await conn.ExecuteAsync("DELETE FROM sessions WHERE id = @id AND user_id = @u", ct, ("@id", sessionId), ("@u", userId)) == 1;

    /// <summary>
    /// Reads the ids, then deletes those (no DELETE … RETURNING in MySQL 8). A session created after the read is
    /// kept: it was started after the change that revokes the others (a new password, a disabled account).
    /// </summary>
    public static async Task<IReadOnlyList<long>> DeleteSessionsOfUserAsync(DbConnection conn, long userId, long? keep, CancellationToken ct)
    {
        var ids = await conn.ListAsync("SELECT id FROM sessions WHERE user_id = @u AND id <> @k ORDER BY id", r => r.GetInt64(0), ct,
            ("@u", userId), ("@k", keep ?? 0));
        if (ids.Count > 0)
        {
            await conn.ExecuteAsync("DELETE FROM sessions WHERE user_id = @u AND id <> @k AND id <= @max", ct,
                ("@u", userId), ("@k", keep ?? 0), ("@max", ids[^1]));
        }

        return ids;
    }

    public static async Task<bool> UnblockAsync(DbConnection conn, long blockerId, long blockedId, CancellationToken ct) =>
        await conn.ExecuteAsync("DELETE FROM blocks WHERE blocker_id = @a AND blocked_id = @b", ct, ("@a", blockerId), ("@b", blockedId)) == 1;

    public static async Task<IReadOnlyList<string>> ListBlockedAsync(DbConnection conn, long blockerId, CancellationToken ct) =>
        await conn.ListAsync("SELECT u.username FROM blocks b JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = @a ORDER BY u.username",
            r => r.GetString(0), ct, ("@a", blockerId));

    public static async Task<int> CountBlockedAsync(DbConnection conn, long blockerId, CancellationToken ct) =>
        Convert.ToInt32(await conn.ScalarAsync("SELECT COUNT(*) FROM blocks WHERE blocker_id = @a", ct, ("@a", blockerId)), System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<bool> IsBlockedAsync(DbConnection conn, long blockerId, long blockedId, CancellationToken ct) =>
        await conn.ScalarAsync("SELECT 1 FROM blocks WHERE blocker_id = @a AND blocked_id = @b", ct, ("@a", blockerId), ("@b", blockedId)) is not null;
}
