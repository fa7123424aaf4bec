namespace Natter.Server.Storage;

/// <summary>
/// Accounts of protocol v2 §5: profiles (display name, avatar), the session list, password and status changes, and
/// blocks. Both stores implement it (in files of their own); <see cref="IChatStore"/> extends it.
/// </summary>
public interface IAccountStore
{
    /// <summary>The user with this (lower-case) username, whatever its status; null when there is none.</summary>
    Task<Profile?> FindProfileAsync(string username, CancellationToken ct);

    /// <summary>Active users by username, at most limit.</summary>
    Task<IReadOnlyList<Profile>> ListProfilesAsync(int limit, CancellationToken ct);

    /// <summary>The users with these ids (any status); unknown ids are left out.</summary>
    Task<IReadOnlyList<Profile>> FindProfilesAsync(IReadOnlyCollection<long> userIds, CancellationToken ct);

    /// <summary>
    /// Users of any status whose username or display name contains the query (case-insensitive for ASCII letters),
    /// by username, at most limit. An empty query lists every user.
    /// </summary>
    Task<IReadOnlyList<Profile>> SearchProfilesAsync(string query, int limit, CancellationToken ct);

    Task SetDisplayNameAsync(long userId, string displayName, CancellationToken ct);

    /// <summary>
    /// The avatar's file id, or null for none. False (and nothing changed) when the file is no longer ready: the file
    /// sweep freed it between the caller's checks and this write.
    /// </summary>
    Task<bool> SetAvatarAsync(long userId, string? fileId, CancellationToken ct);

    Task SetPasswordHashAsync(long userId, string passwordHash, CancellationToken ct);

    /// <summary>Sets the account status (<see cref="UserStatuses"/>); false when the user does not exist.</summary>
    Task<bool> SetStatusAsync(long userId, string status, CancellationToken ct);

    /// <summary>A new session with its creation and last-seen time set to now and the client's User-Agent; its id.</summary>
    Task<long> StartSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, string? userAgent, CancellationToken ct);

    /// <summary>The user's sessions that have not expired at now, newest first.</summary>
    Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(long userId, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Whether the session still exists and its user is active (not whether it expired: the socket's expiry timer
    /// handles that). Read again once a socket is registered, to catch a revocation that ran while it opened.
    /// </summary>
    Task<bool> IsSessionLiveAsync(long sessionId, CancellationToken ct);

    /// <summary>Records that the session was used at now.</summary>
    Task TouchSessionAsync(long sessionId, DateTimeOffset now, CancellationToken ct);

    /// <summary>Deletes one session of this user; false when the user has no such session.</summary>
    Task<bool> DeleteSessionOfUserAsync(long userId, long sessionId, CancellationToken ct);

    /// <summary>Deletes every session of the user except <paramref name="keepSessionId"/>; the ids deleted.</summary>
    Task<IReadOnlyList<long>> DeleteSessionsOfUserAsync(long userId, long? keepSessionId, CancellationToken ct);

    /// <summary>The blocker blocks the other user; false when that block was there already.</summary>
    Task<bool> BlockAsync(long blockerId, long blockedId, CancellationToken ct);

    /// <summary>False when there was no such block.</summary>
    Task<bool> UnblockAsync(long blockerId, long blockedId, CancellationToken ct);

    /// <summary>The usernames the user blocks, in order.</summary>
    Task<IReadOnlyList<string>> ListBlockedAsync(long blockerId, CancellationToken ct);

    /// <summary>How many users the user blocks.</summary>
    Task<int> CountBlockedAsync(long blockerId, CancellationToken ct);

    /// <summary>True when <paramref name="blockerId"/> blocks <paramref name="blockedId"/>.</summary>
    Task<bool> IsBlockedAsync(long blockerId, long blockedId, CancellationToken ct);
}

public static class UserStatuses
{
    public const string Active = "active";
    public const string Disabled = "disabled";
}

/// <summary>A user as others see them: DisplayName is the username until the user sets one; AvatarFile a file id or null.</summary>
public sealed record Profile(long Id, string Username, string DisplayName, string? AvatarFile, string Status);

/// <summary>One session as its owner's session list shows it (times in Unix ms).</summary>
public sealed record SessionInfo(long Id, long CreatedAt, long LastSeen, string? UserAgent);
