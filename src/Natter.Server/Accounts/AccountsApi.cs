using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Api;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>register, login, logout, me, users.</summary>
public static class AccountsApi
{
    public static RouteGroupBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/register", Register);
        api.MapPost("/login", Login);
        api.MapPost("/logout", Logout).RequireAuthorization();
        api.MapGet("/me", Me).RequireAuthorization();
        api.MapGet("/users", Users).RequireAuthorization();
        return api;
    }

    /// <summary>The {username, password} body of register and login, both strings; Error otherwise.</summary>
    private static async Task<((string Username, string Password)? Credentials, ProblemHttpResult? Error)> ReadCredentialsAsync(
        HttpRequest request, IOptions<NatterOptions> options)
    {
        var (body, error) = await JsonBody.ReadAsync(request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return (null, error);
        }

        using (body)
        {
            var (username, e1) = body.GetString("username");
            var (password, e2) = body.GetString("password");
            return (e1 ?? e2) is { } bad ? (null, bad) : ((username!, password!), null);
        }
    }

    public static async Task<Results<Created<UserDto>, ProblemHttpResult>> Register(
        HttpContext http, IChatStore store, PasswordHasher hasher, RegistrationLimit limit, IOptions<NatterOptions> options, ILoggerFactory logs,
        CancellationToken ct)
    {
        var (credentials, error) = await ReadCredentialsAsync(http.Request, options);
        if (credentials is not var (rawName, password))
        {
            return error!;
        }

        var username = Validation.NormalizeUsername(rawName);
        if (username is null)
        {
            return Problems.BadRequest($"A username has {Validation.UsernameMin}–{Validation.UsernameMax} characters of a-z, 0-9, '_', '.' and '-'.");
        }

        if (!Validation.IsValidPassword(password))
        {
            return Problems.BadRequest($"A password has {Validation.PasswordMin}–{Validation.PasswordMax} characters.");
        }

        if (await store.FindUserAsync(username, ct) is not null)
        {
            return Problems.Conflict($"The username '{username}' is taken.");
        }

        if (limit.TryRegister(AddressOf(http)) is { } wait)
        {
            return Problems.TooMany(http.Response, wait, "Too many registrations from this address; try again in {0} s.");
        }

        if (await hasher.TryHashAsync(password, ct) is not { } hash)
        {
            return Busy(http);
        }

        if (await store.CreateUserAsync(username, hash, ct) is null)
        {
            return Problems.Conflict($"The username '{username}' is taken.");
        }

        Log.UserRegistered(logs.CreateLogger(typeof(AccountsApi)), username);
        return TypedResults.Created($"/api/users/{username}", new UserDto(username));
    }

    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> Login(
        HttpContext http, IChatStore store, PasswordHasher hasher, LoginThrottle throttle, DeviceCookies devices, IOptions<NatterOptions> options,
        TimeProvider clock, NatterMetrics metrics, ILoggerFactory logs, CancellationToken ct)
    {
        var (credentials, error) = await ReadCredentialsAsync(http.Request, options);
        if (credentials is not var (rawName, password))
        {
            return error!;
        }

        var logger = logs.CreateLogger(typeof(AccountsApi));
        var username = Validation.NormalizeUsername(rawName) ?? rawName; // an invalid name matches no account (and is never mapped onto one)
        var address = AddressOf(http);
        var device = devices.DeviceOf(http.Request.Cookies[devices.CookieName], username);
        if (throttle.RetryAfter(username, address, device) is { } wait)
        {
            Log.LoginThrottled(logger, LogText.Escape(username), address, Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)));
            return Problems.TooMany(http.Response, wait, "Too many failed logins; try again in {0} s.");
        }

        var user = Validation.NormalizeUsername(rawName) is null ? null : await store.FindUserAsync(username, ct);
        if (await hasher.TryVerifyAsync(user?.PasswordHash, password, ct) is not { } ok)
        {
            return Busy(http);
        }

        if (!ok || user is null || user.Status != "active")
        {
            throttle.RecordFailure(username, address, device);
            metrics.LoginFailures.Add(1);
            Log.LoginFailed(logger, LogText.Escape(username), address);
            return Problems.Unauthorized("Wrong username or password.");
        }

        throttle.RecordSuccess(username, device);
        var (deviceCookie, deviceExpires) = devices.Issue(user.Username);
        http.Response.Cookies.Append(devices.CookieName, deviceCookie, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/api/login",
            Expires = deviceExpires,
        });

        var token = Tokens.New();
        var expires = clock.GetUtcNow() + options.Value.Auth.TokenLifetime;
        await store.CreateSessionAsync(user.Id, Tokens.Hash(token), expires, ct);
        http.Response.Cookies.Append(options.Value.Auth.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            Path = "/",
            Expires = expires,
        });
        return TypedResults.Ok(new LoginResponse(token, user.Username));
    }

    public static async Task<NoContent> Logout(HttpContext http, IChatStore store, IMessageBus bus, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        await store.DeleteSessionAsync(caller.SessionId, ct);
        await bus.PublishAsync(new SessionRevoked(caller.SessionId), ct);
        http.Response.Cookies.Delete(options.Value.Auth.CookieName, new CookieOptions { Path = "/" });
        return TypedResults.NoContent();
    }

    /// <summary>The client's address (the proxy's, unless forwarded headers come from a known proxy).</summary>
    private static string AddressOf(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static ProblemHttpResult Busy(HttpContext http) =>
        Problems.Unavailable(http.Response, TimeSpan.FromSeconds(1), "The server is busy checking passwords; try again in a second.");

    public static Ok<UserDto> Me(HttpContext http) => TypedResults.Ok(new UserDto(Caller.From(http.User).Username));

    public static async Task<Ok<UserStatusDto[]>> Users(bool? online, IChatStore store, IPresence presence, CancellationToken ct)
    {
        var onlineNow = (await presence.OnlineUsernamesAsync(ct)).ToHashSet(StringComparer.Ordinal);
        if (online == true)
        {
            return TypedResults.Ok(onlineNow.Order(StringComparer.Ordinal).Select(u => new UserStatusDto(u, true)).ToArray());
        }

        var all = await store.ListUsernamesAsync(1000, ct);
        return TypedResults.Ok(all.Select(u => new UserStatusDto(u, onlineNow.Contains(u))).ToArray());
    }
}
