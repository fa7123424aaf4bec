using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Api;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>
/// The caller's own account (protocol v2 §5): profile (PATCH /api/me), password, sessions and blocks. What the
/// contract leaves open is in docs/protocol.md ("Accounts").
/// </summary>
public static class AccountSettingsApi
{
    public static RouteGroupBuilder MapAccountSettingsApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/me").RequireAuthorization();
        me.MapPatch("", UpdateProfile);
        me.MapPost("/password", ChangePassword);
        me.MapGet("/sessions", Sessions);
        me.MapDelete("/sessions/{id}", RevokeSession);
        me.MapGet("/blocks", Blocks);
        me.MapPut("/blocks/{username}", Block);
        me.MapDelete("/blocks/{username}", Unblock);
        return me;
    }

    /// <summary>{display_name?, avatar?}: each field present changes it; avatar null removes the avatar.</summary>
    public static async Task<Results<Ok<ProfileDto>, ProblemHttpResult>> UpdateProfile(
        HttpContext http, IChatStore store, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        string? displayName;
        (bool Present, string? FileId) avatar = (false, null);
        using (body)
        {
            (var raw, error) = body.GetString("display_name", required: false);
            if (error is not null)
            {
                return error;
            }

            displayName = raw is null ? null : Validation.NormalizeDisplayName(raw);
            if (raw is not null && displayName is null)
            {
                return Problems.BadRequest(
                    $"A display name has 1–{Validation.DisplayNameMax} characters, not all blank, without control or invisible formatting characters.");
            }

            if (body.Root.TryGetProperty("avatar", out var a))
            {
                if (a.ValueKind is not (JsonValueKind.Null or JsonValueKind.String))
                {
                    return Problems.BadRequest("\"avatar\" is a file id or null.");
                }

                avatar = (true, a.ValueKind == JsonValueKind.String ? a.GetString() : null);
            }
        }

        var caller = Caller.From(http.User);
        if (avatar is (true, { } fileId))
        {
            var found = FileIds.IsValid(fileId) ? await store.FindFilesAsync([fileId], ct) : [];
            var file = found.Count > 0 ? found[0] : null;
            if (file is null)
            {
                return Problems.NotFound($"No file '{fileId}'.");
            }

            if (file.UploaderId != caller.UserId)
            {
                return Problems.Forbidden("That file was uploaded by someone else: upload the picture yourself.");
            }

            if (!file.File.IsImage)
            {
                return Problems.BadRequest("An avatar is an image: PNG, JPEG, GIF or WebP.");
            }
        }

        if (displayName is not null)
        {
            await store.SetDisplayNameAsync(caller.UserId, displayName, ct);
        }

        if (avatar.Present && !await store.SetAvatarAsync(caller.UserId, avatar.FileId, ct))
        {
            return Problems.NotFound($"No file '{avatar.FileId}'.");
        }

        var profile = await store.FindProfileAsync(caller.Username, ct);
        return profile is null ? Problems.NotFound("Your account is gone.") : TypedResults.Ok(Profiles.ToDto(profile));
    }

    /// <summary>
    /// {current, new} → 204; every other session is revoked and its sockets closed with 4001 on every node. A wrong
    /// current password → 403, counted like a failed login (so a stolen session cannot guess the password for long).
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> ChangePassword(
        HttpContext http, IChatStore store, PasswordHasher hasher, LoginThrottle throttle, IMessageBus bus, IOptions<NatterOptions> options,
        ILoggerFactory logs, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        string current, next;
        using (body)
        {
            var (c, e1) = body.GetString("current");
            var (n, e2) = body.GetString("new");
            if ((e1 ?? e2) is { } bad)
            {
                return bad;
            }

            (current, next) = (c!, n!);
        }

        if (!Validation.IsValidPassword(next))
        {
            return Problems.BadRequest($"A password has {Validation.PasswordMin}–{Validation.PasswordMax} characters.");
        }

        var caller = Caller.From(http.User);
        var logger = logs.CreateLogger(typeof(AccountSettingsApi));
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.RetryAfter(caller.Username, address) is { } wait)
        {
            return Problems.TooMany(http.Response, wait, "Too many wrong passwords; try again in {0} s.");
        }

        var user = await store.FindUserAsync(caller.Username, ct);
        if (await hasher.TryVerifyAsync(user?.PasswordHash, current, ct) is not { } ok)
        {
            return Busy(http);
        }

        if (!ok || user is null)
        {
            throttle.RecordFailure(caller.Username, address);
            Log.PasswordChangeRefused(logger, caller.Username, address);
            return Problems.Forbidden("The current password is wrong.");
        }

        if (await hasher.TryHashAsync(next, ct) is not { } hash)
        {
            return Busy(http);
        }

        await store.SetPasswordHashAsync(user.Id, hash, ct);
        var revoked = await store.DeleteSessionsOfUserAsync(user.Id, caller.SessionId, ct);
        await bus.PublishAsync(new UserSessionsRevoked(user.Id, caller.SessionId, Disabled: false), ct);
        Log.PasswordChanged(logger, caller.Username, revoked.Count);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult Busy(HttpContext http) =>
        Problems.Unavailable(http.Response, TimeSpan.FromSeconds(1), "The server is busy checking passwords; try again in a second.");

    public static async Task<Ok<SessionDto[]>> Sessions(HttpContext http, IChatStore store, TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var sessions = await store.ListSessionsAsync(caller.UserId, clock.GetUtcNow(), ct);
        return TypedResults.Ok(sessions
            .Select(s => new SessionDto(s.Id.ToString(CultureInfo.InvariantCulture), s.CreatedAt, s.LastSeen, s.UserAgent, s.Id == caller.SessionId))
            .ToArray());
    }

    /// <summary>Revokes one of the caller's sessions (the current one too: that is a logout); its sockets close with 4001.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeSession(
        string id, HttpContext http, IChatStore store, IMessageBus bus, IOptions<NatterOptions> options, ILoggerFactory logs, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var sessionId)
            || !await store.DeleteSessionOfUserAsync(caller.UserId, sessionId, ct))
        {
            return Problems.NotFound("You have no such session.");
        }

        await bus.PublishAsync(new SessionRevoked(sessionId), ct);
        if (sessionId == caller.SessionId)
        {
            http.Response.Cookies.Delete(options.Value.Auth.CookieName, new CookieOptions { Path = "/" });
        }

        Log.SessionSignedOut(logs.CreateLogger(typeof(AccountSettingsApi)), caller.Username, sessionId);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<string[]>> Blocks(HttpContext http, IChatStore store, CancellationToken ct) =>
        TypedResults.Ok((await store.ListBlockedAsync(Caller.From(http.User).UserId, ct)).ToArray());

    /// <summary>Idempotent: blocking a user already blocked is a 204 too. Past Auth:MaxBlocks → 409.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> Block(
        string username, HttpContext http, IChatStore store, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var (target, refused) = await OtherUserAsync(username, caller, store, ct);
        if (target is null)
        {
            return refused!;
        }

        if (!await store.IsBlockedAsync(caller.UserId, target.Id, ct)
            && await store.CountBlockedAsync(caller.UserId, ct) >= options.Value.Auth.MaxBlocks)
        {
            return Problems.Conflict($"You block {options.Value.Auth.MaxBlocks} users already: unblock one first.");
        }

        await store.BlockAsync(caller.UserId, target.Id, ct);
        return TypedResults.NoContent();
    }

    /// <summary>Idempotent: unblocking a user who is not blocked is a 204 too.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> Unblock(string username, HttpContext http, IChatStore store, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var (target, refused) = await OtherUserAsync(username, caller, store, ct);
        if (target is null)
        {
            return refused!;
        }

        await store.UnblockAsync(caller.UserId, target.Id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<(Profile? User, ProblemHttpResult? Refused)> OtherUserAsync(string raw, Caller caller, IChatStore store, CancellationToken ct)
    {
        var username = Validation.NormalizeUsername(raw);
        if (username == caller.Username)
        {
            return (null, Problems.BadRequest("You cannot block yourself."));
        }

        var user = username is null ? null : await store.FindProfileAsync(username, ct);
        return user is null ? (null, Problems.NotFound($"No user '{raw}'.")) : (user, null);
    }
}
