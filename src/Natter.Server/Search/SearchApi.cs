using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Natter.Protocol;
using Natter.Server.Api;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Search;

/// <summary>GET /api/search (protocol v2 §2): the caller's messages by words, newest first, a page at a time.</summary>
public static class SearchApi
{
    // The contract's bounds (protocol v2 §2), not settings: a client written against it relies on them.
    public const int QueryMaxCodePoints = 200;
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static RouteGroupBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization();
        api.MapGet("/search", Search);
        return api;
    }

    public static async Task<Results<Ok<SearchPageDto>, ProblemHttpResult>> Search(
        HttpContext http, IChatStore store, RoomDirectory directory, SearchLimit searchLimit, ILogger<SearchLimit> logger, CancellationToken ct)
    {
        var query = http.Request.Query;
        if (query["q"].Count != 1 || query["room"].Count > 1 || query["from"].Count > 1 || query["limit"].Count > 1 || query["cursor"].Count > 1)
        {
            return Problems.BadRequest("q is required; q, room, from, limit and cursor are given at most once.");
        }

        var q = query["q"].ToString();
        var length = Validation.CodePoints(q);
        if (length is < 1 or > QueryMaxCodePoints)
        {
            return Problems.BadRequest($"q has 1–{QueryMaxCodePoints} characters.");
        }

        var words = SearchWords.Query(q);
        if (words.Count == 0)
        {
            return Problems.BadRequest("q needs at least one word (letters or digits).");
        }

        var limit = DefaultLimit;
        if (query["limit"].Count == 1
            && (!int.TryParse(query["limit"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return Problems.BadRequest($"limit is a whole number, 1–{MaxLimit}.");
        }

        long? before = null;
        if (query["cursor"].Count == 1)
        {
            if (SearchCursor.Parse(query["cursor"].ToString()) is not { } position)
            {
                return Problems.BadRequest("cursor is not one this server gave.");
            }

            before = position;
        }

        var caller = Caller.From(http.User);
        if (searchLimit.TrySearch(caller.UserId) is { } wait)
        {
            Log.SearchLimited(logger, caller.Username, searchLimit.PerMinute);
            return Problems.TooMany(http.Response, wait, "Too many searches; try again in {0} s.");
        }

        string? room = null;
        if (query["room"].Count == 1)
        {
            room = query["room"].ToString();
            var (found, isMember) = await directory.CheckMemberAsync(room, caller.UserId, ct);
            if (found is null)
            {
                return Problems.NotFound("No such room.");
            }

            if (!isMember)
            {
                return Problems.Forbidden("You are not a member of this room.");
            }
        }

        string? from = null;
        if (query["from"].Count == 1)
        {
            from = Validation.NormalizeUsername(query["from"].ToString());
            if (from is null)
            {
                // No user can have this name: nothing they sent can be found.
                return TypedResults.Ok(new SearchPageDto([], null));
            }
        }

        var page = await store.SearchAsync(new SearchQuery(caller.UserId, words, room, from, before, limit), ct);
        var results = new List<JsonObject>(page.Hits.Count);
        foreach (var hit in page.Hits)
        {
            // The history item itself, in its state now (a message deleted since the index was read is left out).
            var read = await store.ReadMessagesAsync(hit.Room, hit.Seq - 1, hit.Seq + 1, 1, oldestFirst: true, ct);
            if (read.Count == 0 || read[0] is not { Deleted: false } message || message.Seq != hit.Seq)
            {
                continue;
            }

            var item = JsonSerializer.SerializeToNode(RoomsApi.ToDto(message), ApiJsonContext.Default.MessageDto)!.AsObject();
            item["room_name"] = hit.RoomName;
            results.Add(item);
        }

        return TypedResults.Ok(new SearchPageDto([.. results], page.Next is { } next ? SearchCursor.Format(next) : null));
    }
}

/// <summary>
/// The cursor a client hands back for the next page: opaque to clients. It is "s" and the index position (base 10)
/// of the last result: the next page holds what is older than that.
/// </summary>
public static class SearchCursor
{
    public static string Format(long position) => "s" + position.ToString(CultureInfo.InvariantCulture);

    public static long? Parse(string cursor) =>
        cursor.Length is > 1 and <= 20 && cursor[0] == 's'
        && long.TryParse(cursor.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0
            ? p
            : null;
}
