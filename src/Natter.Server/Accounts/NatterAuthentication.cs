using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>
/// Authenticates a request by its bearer token or session cookie: the token's hash must name a live session.
/// A refusal is a 401 problem-details response.
/// </summary>
public sealed class NatterAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    TokenCheck tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "Natter";

    public static string? ReadToken(HttpRequest request, string cookieName)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = header["Bearer ".Length..].Trim();
            return token.Length > 0 ? token : null;
        }

        return request.Cookies.TryGetValue(cookieName, out var cookie) && cookie.Length > 0 ? cookie : null;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken(Request, tokens.CookieName);
        if (token is null || token.Length > TokenCheck.MaxTokenLength)
        {
            return AuthenticateResult.NoResult();
        }

        var session = await tokens.FindAsync(token, Context.RequestAborted);
        if (session is null)
        {
            return AuthenticateResult.Fail("unknown or expired token");
        }

        var identity = new ClaimsIdentity(Caller.Claims(session.UserId, session.Username, session.Id, session.ExpiresAt), SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => tokens.ChallengeAsync(Context);
}
