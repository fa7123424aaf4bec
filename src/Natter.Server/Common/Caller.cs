using System.Globalization;
using System.Security.Claims;

namespace Natter.Server.Common;

/// <summary>The authenticated caller, read from the claims the authentication handler sets (Accounts).</summary>
public readonly record struct Caller(long UserId, string Username, long SessionId)
{
    /// <summary>The claim that carries the session's id (user id and name use the standard claim types).</summary>
    public const string SessionIdClaim = "natter:sid";

    /// <summary>The claim that carries when the session expires (Unix ms).</summary>
    public const string SessionExpiresClaim = "natter:exp";

    /// <summary>When the caller's session expires; null when the principal does not say.</summary>
    public static DateTimeOffset? SessionExpiresAt(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(SessionExpiresClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    public static Caller From(ClaimsPrincipal user) => new(
        long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!, CultureInfo.InvariantCulture),
        user.FindFirstValue(ClaimTypes.Name)!,
        long.Parse(user.FindFirstValue(SessionIdClaim)!, CultureInfo.InvariantCulture));

    /// <summary>The claims for a session (what the authentication handler puts on the principal).</summary>
    public static Claim[] Claims(long userId, string username, long sessionId, DateTimeOffset expiresAt) =>
    [
        new(ClaimTypes.NameIdentifier, userId.ToString(CultureInfo.InvariantCulture)),
        new(ClaimTypes.Name, username),
        new(SessionIdClaim, sessionId.ToString(CultureInfo.InvariantCulture)),
        new(SessionExpiresClaim, expiresAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
    ];
}
