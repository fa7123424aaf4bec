using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Api;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>
/// Server administration (protocol v2 §5): admins are the usernames in Natter:Admins. Finding users
/// (GET /api/admin/users?q=) and disabling or enabling an account (PATCH /api/users/{username}); anyone else gets 403.
/// </summary>
public static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder app)
    {
        app.MapPatch("/api/users/{username}", SetStatus).RequireAuthorization();
        app.MapGet("/api/admin/users", FindUsers).RequireAuthorization();
    }

    private static ProblemHttpResult NotAdmin() => Problems.Forbidden("Only a server admin may do this.");

    /// <summary>Users of any status whose username or display name contains q (all users without q), by username.</summary>
    public static async Task<Results<Ok<AdminUserDto[]>, ProblemHttpResult>> FindUsers(
        string? q, int? limit, HttpContext http, Admins admins, IChatStore store, IPresence presence, IOptions<NatterOptions> options, CancellationToken ct)
    {
        if (!admins.Contains(Caller.From(http.User).Username))
        {
            return NotAdmin();
        }

        var max = options.Value.Auth.UserSearchMax;
        if (limit is < 1)
        {
            return Problems.BadRequest("\"limit\" is 1 or more.");
        }

        var found = await store.SearchProfilesAsync((q ?? "").Trim(), Math.Min(limit ?? max, max), ct);
        var online = (await presence.OnlineUsernamesAsync(ct)).ToHashSet(StringComparer.Ordinal);
        return TypedResults.Ok(found.Select(p => ToDto(p, admins, online)).ToArray());
    }

    /// <summary>
    /// {status: "disabled" | "active"} → 200 with the user. Disabling revokes every session of the account and closes
    /// its sockets with 4003 on every node; from then on its logins get 403. An admin cannot disable their own account.
    /// </summary>
    public static async Task<Results<Ok<AdminUserDto>, ProblemHttpResult>> SetStatus(
        string username, HttpContext http, Admins admins, IChatStore store, IMessageBus bus, IPresence presence, IOptions<NatterOptions> options,
        ILoggerFactory logs, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        if (!admins.Contains(caller.Username))
        {
            return NotAdmin();
        }

        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        string? status;
        using (body)
        {
            (status, error) = body.GetString("status");
            if (error is not null)
            {
                return error;
            }
        }

        if (status is not (UserStatuses.Active or UserStatuses.Disabled))
        {
            return Problems.BadRequest("\"status\" is \"active\" or \"disabled\".");
        }

        var name = Validation.NormalizeUsername(username);
        var user = name is null ? null : await store.FindProfileAsync(name, ct);
        if (user is null)
        {
            return Problems.NotFound($"No user '{username}'.");
        }

        if (status == UserStatuses.Disabled && user.Id == caller.UserId)
        {
            return Problems.BadRequest("You cannot disable your own account.");
        }

        // Status first, sessions after: a login racing this sees the new status, and no session outlives it.
        await store.SetStatusAsync(user.Id, status, ct);
        var revoked = 0;
        if (status == UserStatuses.Disabled)
        {
            revoked = (await store.DeleteSessionsOfUserAsync(user.Id, null, ct)).Count;
            await bus.PublishAsync(new UserSessionsRevoked(user.Id, null, Disabled: true), ct);
        }

        Log.AccountStatusChanged(logs.CreateLogger(typeof(AdminApi)), caller.Username, user.Username, status, revoked);
        var online = (await presence.OnlineUsernamesAsync(ct)).ToHashSet(StringComparer.Ordinal);
        return TypedResults.Ok(ToDto(user with { Status = status }, admins, online));
    }

    private static AdminUserDto ToDto(Profile p, Admins admins, HashSet<string> online) =>
        new(p.Username, p.DisplayName, Profiles.AvatarUrl(p.AvatarFile), p.Status, admins.Contains(p.Username), online.Contains(p.Username));
}
