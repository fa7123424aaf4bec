namespace Natter.Server.Storage;

/// <summary>The account calls (<see cref="IAccountStore"/>), guarded like the rest.</summary>
public sealed partial class GuardedChatStore
{
    public Task<Profile?> FindProfileAsync(string username, CancellationToken ct) =>
        ReadAsync(() => inner.FindProfileAsync(username, ct));

    public Task<IReadOnlyList<Profile>> ListProfilesAsync(int limit, CancellationToken ct) =>
        ReadAsync(() => inner.ListProfilesAsync(limit, ct));

    public Task<IReadOnlyList<Profile>> FindProfilesAsync(IReadOnlyCollection<long> userIds, CancellationToken ct) =>
        ReadAsync(() => inner.FindProfilesAsync(userIds, ct));

    public Task<IReadOnlyList<Profile>> SearchProfilesAsync(string query, int limit, CancellationToken ct) =>
        ReadAsync(() => inner.SearchProfilesAsync(query, limit, ct));

    public Task SetDisplayNameAsync(long userId, string displayName, CancellationToken ct) =>
        WriteAsync(() => inner.SetDisplayNameAsync(userId, displayName, ct));

    public Task<bool> SetAvatarAsync(long userId, string? fileId, CancellationToken ct) =>
        WriteAsync(() => inner.SetAvatarAsync(userId, fileId, ct));

    public Task SetPasswordHashAsync(long userId, string passwordHash, CancellationToken ct) =>
        WriteAsync(() => inner.SetPasswordHashAsync(userId, passwordHash, ct));

    public Task<bool> SetStatusAsync(long userId, string status, CancellationToken ct) =>
        WriteAsync(() => inner.SetStatusAsync(userId, status, ct));

    public Task<bool> IsSessionLiveAsync(long sessionId, CancellationToken ct) =>
        ReadAsync(() => inner.IsSessionLiveAsync(sessionId, ct));

    public Task<long> StartSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, string? userAgent, CancellationToken ct) =>
        WriteAsync(() => inner.StartSessionAsync(userId, tokenHash, expiresAt, userAgent, ct));

    public Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(long userId, DateTimeOffset now, CancellationToken ct) =>
        ReadAsync(() => inner.ListSessionsAsync(userId, now, ct));

    public Task TouchSessionAsync(long sessionId, DateTimeOffset now, CancellationToken ct) =>
        WriteAsync(() => inner.TouchSessionAsync(sessionId, now, ct));

    public Task<bool> DeleteSessionOfUserAsync(long userId, long sessionId, CancellationToken ct) =>
        WriteAsync(() => inner.DeleteSessionOfUserAsync(userId, sessionId, ct));

    public Task<IReadOnlyList<long>> DeleteSessionsOfUserAsync(long userId, long? keepSessionId, CancellationToken ct) =>
        WriteAsync(() => inner.DeleteSessionsOfUserAsync(userId, keepSessionId, ct));

    public Task<bool> BlockAsync(long blockerId, long blockedId, CancellationToken ct) =>
        WriteAsync(() => inner.BlockAsync(blockerId, blockedId, ct));

    public Task<bool> UnblockAsync(long blockerId, long blockedId, CancellationToken ct) =>
        WriteAsync(() => inner.UnblockAsync(blockerId, blockedId, ct));

    public Task<IReadOnlyList<string>> ListBlockedAsync(long blockerId, CancellationToken ct) =>
        ReadAsync(() => inner.ListBlockedAsync(blockerId, ct));

    public Task<int> CountBlockedAsync(long blockerId, CancellationToken ct) =>
        ReadAsync(() => inner.CountBlockedAsync(blockerId, ct));

    public Task<bool> IsBlockedAsync(long blockerId, long blockedId, CancellationToken ct) =>
        ReadAsync(() => inner.IsBlockedAsync(blockerId, blockedId, ct));
}
