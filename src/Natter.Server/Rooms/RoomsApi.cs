using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Api;
using Natter.Server.Storage;

namespace Natter.Server.Rooms;

/// <summary>rooms, public rooms, create, join, leave, direct, history (the HTTP send is in Entry/MessagesApi).</summary>
public static class RoomsApi
{
    public static RouteGroupBuilder MapRoomsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization();
        api.MapGet("/rooms", MyRooms);
        api.MapGet("/rooms/public", PublicRooms);
        api.MapPost("/rooms", Create);
        api.MapPost("/rooms/{id}/join", Join);
        api.MapPost("/rooms/{id}/leave", Leave);
        api.MapPost("/direct", Direct);
        api.MapGet("/rooms/{id}/messages", History);
        RoomAdminApi.Map(api);
        return api;
    }

    public static async Task<Ok<RoomDto[]>> MyRooms(HttpContext http, IChatStore store, CancellationToken ct)
    {
        var rooms = await store.ListRoomsOfUserAsync(Caller.From(http.User).UserId, ct);
        return TypedResults.Ok(rooms.Select(ToDto).ToArray());
    }

    public static RoomDto ToDto(MyRoom r) => new(r.Id, r.Name, r.Kind, r.LastSeq, r.ReadSeq, r.MentionCount, r.Topic, r.Visibility, r.Members, r.Role);

    public static async Task<Ok<PublicRoomDto[]>> PublicRooms(IChatStore store, CancellationToken ct)
    {
        var rooms = await store.ListPublicRoomsAsync(500, ct);
        return TypedResults.Ok(rooms.Select(r => new PublicRoomDto(r.Id, r.Name, r.Members)).ToArray());
    }

    public static async Task<Results<Created<RoomDto>, ProblemHttpResult>> Create(
        HttpContext http, RoomService rooms, RoomCreationLimit limit, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        using (body)
        {
            var (raw, bad) = body.GetString("name");
            if (bad is not null)
            {
                return bad;
            }

            var name = Validation.NormalizeRoomName(raw);
            if (name is null)
            {
                return Problems.BadRequest($"A room name has 1–{Validation.RoomNameMax} characters, shows something, and has no control or invisible formatting characters.");
            }

            var (topic, badTopic) = RoomAdminApi.ReadTopic(body, options.Value.Limits.MaxTopicCodePoints);
            var (visibility, badVisibility) = RoomAdminApi.ReadVisibility(body);
            if ((badTopic ?? badVisibility) is { } invalid)
            {
                return invalid;
            }

            var caller = Caller.From(http.User);
            if (limit.TryCreate(caller.UserId) is { } wait)
            {
                return Problems.TooMany(http.Response, wait, "Too many new rooms; try again in {0} s.");
            }

            var room = await rooms.CreateAsync(caller, name, topic ?? "", visibility ?? RoomVisibility.Public, ct);
            return TypedResults.Created($"/api/rooms/{room.Id}", ToDto(room));
        }
    }

    public static async Task<Results<Ok<RoomDto>, ProblemHttpResult>> Join(string id, HttpContext http, RoomService rooms, CancellationToken ct)
    {
        var (room, refusal) = await rooms.JoinAsync(Caller.From(http.User), id, ct);
        return refusal is not null ? RoomAdminApi.Problem(refusal)
            : room is null ? Problems.NotFound("No such room.")
            : TypedResults.Ok(ToDto(room));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Leave(string id, HttpContext http, RoomService rooms, CancellationToken ct) =>
        await rooms.LeaveAsync(Caller.From(http.User), id, ct) ? TypedResults.NoContent() : Problems.NotFound("No such room.");

    public static async Task<Results<Ok<RoomRefDto>, Created<RoomRefDto>, ProblemHttpResult>> Direct(
        HttpContext http, RoomService rooms, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        using (body)
        {
            var (username, bad) = body.GetString("username");
            if (bad is not null)
            {
                return bad;
            }

            var caller = Caller.From(http.User);
            if (string.Equals(username, caller.Username, StringComparison.OrdinalIgnoreCase))
            {
                return Problems.BadRequest("A direct room is with another user.");
            }

            var result = await rooms.OpenDirectAsync(caller, username!, ct);
            if (result is not { } direct)
            {
                return Problems.NotFound($"No user '{username}'.");
            }

            var dto = new RoomRefDto(direct.Room.Id, direct.OtherName, RoomKinds.Direct);
            return direct.Created ? TypedResults.Created($"/api/rooms/{dto.Id}", dto) : TypedResults.Ok(dto);
        }
    }

    public static async Task<Results<Ok<MessageDto[]>, ProblemHttpResult>> History(
        string id, HttpContext http, RoomDirectory directory, IChatStore store, CancellationToken ct)
    {
        var q = http.Request.Query;
        if (!TryLong(q["before"], out var before) || !TryLong(q["after"], out var after) || !TryLong(q["limit"], out var limit)
            || !TryLong(q["around"], out var around))
        {
            return Problems.BadRequest("before, after, around and limit are whole numbers.");
        }

        limit ??= 50;
        if (limit is < 1 or > 200)
        {
            return Problems.BadRequest("limit is 1–200.");
        }

        if (around is not null && (before is not null || after is not null))
        {
            return Problems.BadRequest("around goes alone: without before and after.");
        }

        if (around is < 1)
        {
            return Problems.BadRequest("around is a seq: 1 or more.");
        }

        var (room, isMember) = await directory.CheckMemberAsync(id, Caller.From(http.User).UserId, ct);
        if (room is null)
        {
            return Problems.NotFound("No such room.");
        }

        if (!isMember)
        {
            return Problems.Forbidden("You are not a member of this room.");
        }

        var messages = around is { } seq
            ? await AroundAsync(store, id, seq, (int)limit, ct)
            : await store.ReadMessagesAsync(id, after ?? 0, before ?? long.MaxValue, (int)limit, oldestFirst: after is not null, ct);
        return TypedResults.Ok(messages.Select(ToDto).ToArray());
    }

    /// <summary>
    /// The limit messages nearest to seq: half of limit (rounded down) below it and the rest at or above it; at
    /// either end of the room the other side fills up. Ascending.
    /// </summary>
    private static async Task<IReadOnlyList<MessageState>> AroundAsync(IChatStore store, string room, long seq, int limit, CancellationToken ct)
    {
        var below = await store.ReadMessagesAsync(room, 0, seq, limit, oldestFirst: false, ct);
        var above = await store.ReadMessagesAsync(room, seq - 1, long.MaxValue, limit, oldestFirst: true, ct);
        var takeBelow = Math.Min(below.Count, limit / 2);
        var takeAbove = Math.Min(above.Count, limit - takeBelow);
        takeBelow = Math.Min(below.Count, limit - takeAbove);
        return [.. below.Skip(below.Count - takeBelow), .. above.Take(takeAbove)];
    }

    public static FileDto ToDto(FileRef f) => new(f.Id, f.Name, f.Size, f.ContentType, f.Url, f.ThumbUrl);

    public static MessageDto ToDto(MessageState m) => new(m.Room, m.Seq, m.From, m.Text, m.Ts, m.ClientId, m.ReplyTo, [.. m.Mentions], [.. m.Files.Select(ToDto)],
        m.EditedTs, m.Deleted, [.. m.Reactions.Select(r => new ReactionDto(r.Emoji, [.. r.Users]))]);

    private static bool TryLong(Microsoft.Extensions.Primitives.StringValues raw, out long? value)
    {
        value = null;
        if (raw.Count == 0)
        {
            return true;
        }

        if (long.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
        {
            value = v;
            return true;
        }

        return false;
    }
}
