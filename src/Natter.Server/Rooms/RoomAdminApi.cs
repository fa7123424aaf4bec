using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Api;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Rooms;

/// <summary>Protocol v2 §4 over HTTP: room settings, members, invitations, kicks, bans, roles and deleting a room.</summary>
public static class RoomAdminApi
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPatch("/rooms/{id}", Update);
        api.MapDelete("/rooms/{id}", Delete);
        api.MapGet("/rooms/{id}/members", Members);
        api.MapPost("/rooms/{id}/invites", Invite);
        api.MapPost("/rooms/{id}/kick", Kick);
        api.MapGet("/rooms/{id}/bans", Bans);
        api.MapPost("/rooms/{id}/bans", Ban);
        api.MapDelete("/rooms/{id}/bans/{username}", Unban);
        api.MapPut("/rooms/{id}/roles/{username}", SetRole);
    }

    public static ProblemHttpResult Problem(RoomRefusal refusal) => Problems.Status(refusal.Status, refusal.Detail);

    /// <summary>An optional topic: trimmed, NFC, 0–max code points, no control or format characters.</summary>
    public static (string? Topic, ProblemHttpResult? Error) ReadTopic(JsonBody body, int max)
    {
        var (raw, bad) = body.GetString("topic", required: false);
        if (bad is not null || raw is null)
        {
            return (null, bad);
        }

        var topic = raw.Normalize(NormalizationForm.FormC).Trim();
        if (Validation.CodePoints(topic) > max || topic.EnumerateRunes().Any(r => Rune.IsControl(r)
            || Rune.GetUnicodeCategory(r) is System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.LineSeparator
                or System.Globalization.UnicodeCategory.ParagraphSeparator))
        {
            return (null, Problems.BadRequest($"A topic has at most {max} characters on one line, without control or invisible formatting characters."));
        }

        return (topic, null);
    }

    public static (string? Visibility, ProblemHttpResult? Error) ReadVisibility(JsonBody body)
    {
        var (raw, bad) = body.GetString("visibility", required: false);
        return bad is not null ? (null, bad)
            : raw is null or RoomVisibility.Public or RoomVisibility.Private ? (raw, null)
            : (null, Problems.BadRequest("visibility is \"public\" or \"private\"."));
    }

    private static async Task<(string? Username, ProblemHttpResult? Error)> ReadUsernameAsync(HttpContext http, int maxBytes)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, maxBytes);
        if (body is null)
        {
            return (null, error);
        }

        using (body)
        {
            return body.GetString("username");
        }
    }

    public static async Task<Results<Ok<RoomDto>, ProblemHttpResult>> Update(
        string id, HttpContext http, RoomModeration moderation, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        using (body)
        {
            var (rawName, badName) = body.GetString("name", required: false);
            var (topic, badTopic) = ReadTopic(body, options.Value.Limits.MaxTopicCodePoints);
            var (visibility, badVisibility) = ReadVisibility(body);
            if ((badName ?? badTopic ?? badVisibility) is { } invalid)
            {
                return invalid;
            }

            var name = rawName is null ? null : Validation.NormalizeRoomName(rawName);
            if (rawName is not null && name is null)
            {
                return Problems.BadRequest($"A room name has 1–{Validation.RoomNameMax} characters, shows something, and has no control or invisible formatting characters.");
            }

            var (room, refusal) = await moderation.UpdateAsync(Caller.From(http.User), id, name, topic, visibility, ct);
            return refusal is not null ? Problem(refusal) : TypedResults.Ok(RoomsApi.ToDto(room!));
        }
    }

    public static async Task<Results<Ok<MemberDto[]>, ProblemHttpResult>> Members(
        string id, HttpContext http, RoomModeration moderation, IPresence presence, IChatStore store, CancellationToken ct)
    {
        var (members, refusal) = await moderation.MembersAsync(Caller.From(http.User), id, ct);
        if (refusal is not null)
        {
            return Problem(refusal);
        }

        var online = (await presence.OnlineUsernamesAsync(ct)).ToHashSet(StringComparer.Ordinal);

        // The user object of protocol v2 §5: display name and avatar from the accounts' profiles.
        var profiles = (await store.FindProfilesAsync([.. members!.Select(m => m.UserId)], ct)).ToDictionary(p => p.Id);
        return TypedResults.Ok(members!.Select(m => profiles.TryGetValue(m.UserId, out var p)
            ? new MemberDto(m.Username, p.DisplayName, ProfileDto.AvatarUrlOf(p.AvatarFile), m.Role, online.Contains(m.Username))
            : new MemberDto(m.Username, m.Username, null, m.Role, online.Contains(m.Username))).ToArray());
    }

    public static async Task<Results<Ok<string[]>, ProblemHttpResult>> Bans(string id, HttpContext http, RoomModeration moderation, CancellationToken ct)
    {
        var (bans, refusal) = await moderation.BansAsync(Caller.From(http.User), id, ct);
        return refusal is not null ? Problem(refusal) : TypedResults.Ok(bans!.ToArray());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Invite(
        string id, HttpContext http, RoomModeration moderation, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (username, error) = await ReadUsernameAsync(http, options.Value.Limits.MaxHttpBodyBytes);
        return error is not null ? error
            : await moderation.InviteAsync(Caller.From(http.User), id, username, ct) is { } refusal ? Problem(refusal)
            : TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Kick(
        string id, HttpContext http, RoomModeration moderation, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (username, error) = await ReadUsernameAsync(http, options.Value.Limits.MaxHttpBodyBytes);
        return error is not null ? error
            : await moderation.KickAsync(Caller.From(http.User), id, username, ct) is { } refusal ? Problem(refusal)
            : TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Ban(
        string id, HttpContext http, RoomModeration moderation, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (username, error) = await ReadUsernameAsync(http, options.Value.Limits.MaxHttpBodyBytes);
        return error is not null ? error
            : await moderation.BanAsync(Caller.From(http.User), id, username, ct) is { } refusal ? Problem(refusal)
            : TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Unban(string id, string username, HttpContext http, RoomModeration moderation, CancellationToken ct) =>
        await moderation.UnbanAsync(Caller.From(http.User), id, username, ct) is { } refusal ? Problem(refusal) : TypedResults.NoContent();

    public static async Task<Results<NoContent, ProblemHttpResult>> SetRole(
        string id, string username, HttpContext http, RoomModeration moderation, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        using (body)
        {
            var (role, bad) = body.GetString("role");
            return bad is not null ? bad
                : await moderation.SetRoleAsync(Caller.From(http.User), id, username, role, ct) is { } refusal ? Problem(refusal)
                : TypedResults.NoContent();
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, HttpContext http, RoomModeration moderation, CancellationToken ct) =>
        await moderation.DeleteAsync(Caller.From(http.User), id, ct) is { } refusal ? Problem(refusal) : TypedResults.NoContent();
}
