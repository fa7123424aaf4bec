using System.Globalization;
using System.Security.Claims;

namespace Natter.Server.Common;

/// <summary>The authenticated caller, read from the claims the authentication handler sets (Accounts).</summary>
public readonly record struct Caller(long UserId, string Username, long SessionId)
{
    /// <summary>The claim that carries the session's id (user id and name use the standard claim types).</summary>
    public const string SessionIdClaim = "natter:sid";

    public static Caller From(ClaimsPrincipal user) => new(
        long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!, CultureInfo.InvariantCulture),
        user.FindFirstValue(ClaimTypes.Name)!,
        long.Parse(user.FindFirstValue(SessionIdClaim)!, CultureInfo.InvariantCulture));

    /// <summary>The claims for a session (what the authentication handler puts on the principal).</summary>
    public static Claim[] Claims(long userId, string username, long sessionId) =>
    [
        new(ClaimTypes.NameIdentifier, userId.ToString(CultureInfo.InvariantCulture)),
        new(ClaimTypes.Name, username),
        new(SessionIdClaim, sessionId.ToString(CultureInfo.InvariantCulture)),
    ];
}
