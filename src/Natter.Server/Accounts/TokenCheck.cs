using Microsoft.Extensions.Options;
using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>
/// The one check of a bearer token or session cookie: its hash must name a live session (the session's use is then
/// noted, see <see cref="SessionActivity"/>). The authentication handler uses it for every request; the socket
/// acceptor uses it directly, because /ws is answered ahead of the authentication middleware (whose objects would
/// otherwise stay with the socket for its whole life).
/// </summary>
public sealed class TokenCheck(IChatStore store, IOptions<NatterOptions> options, TimeProvider clock, SessionActivity activity, IProblemDetailsService problems)
{
    /// <summary>A longer token is not looked up (real tokens are 43 characters).</summary>
    public const int MaxTokenLength = 200;

    public string CookieName { get; } = options.Value.Auth.CookieName;

    /// <summary>The live session the token names, or null (no token, too long, unknown or expired).</summary>
    public async Task<Session?> FindAsync(string? token, CancellationToken ct)
    {
        if (token is null || token.Length > MaxTokenLength)
        {
            return null;
        }

        var session = await store.FindSessionAsync(Tokens.Hash(token), clock.GetUtcNow(), ct);
        if (session is not null)
        {
            await activity.TouchAsync(session.Id, ct);
        }

        return session;
    }

    /// <summary>The 401 answer of a request without a valid token (the same as the authentication handler's challenge).</summary>
    public async Task ChallengeAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = 401, Title = "Unauthorized", Detail = "Log in first: send a bearer token or the session cookie." },
        });
    }
}
