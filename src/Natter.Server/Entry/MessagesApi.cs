using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Server.Api;
using Natter.Server.Delivery;
using Natter.Server.Rooms;
using Natter.Server.Sending;
using Natter.Server.Storage;

namespace Natter.Server.Entry;

/// <summary>
/// The HTTP entries of the room-event use cases (the socket's are in FrameHandlers): send (POST), edit (PATCH),
/// delete (DELETE) and reactions (PUT and DELETE). Each answers only once the group commit has decided.
/// </summary>
public static class MessagesApi
{
    public static RouteGroupBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization();
        api.MapPost("/rooms/{id}/messages", Send);
        api.MapPatch("/rooms/{id}/messages/{seq}", Edit);
        api.MapDelete("/rooms/{id}/messages/{seq}", Delete);
        api.MapPut("/rooms/{id}/messages/{seq}/reactions/{emoji}", (string id, string seq, string emoji, HttpContext http, ReactService reactions,
            IOptions<NatterOptions> options, CancellationToken ct) => React(id, seq, emoji, on: true, http, reactions, options, ct));
        api.MapDelete("/rooms/{id}/messages/{seq}/reactions/{emoji}", (string id, string seq, string emoji, HttpContext http, ReactService reactions,
            IOptions<NatterOptions> options, CancellationToken ct) => React(id, seq, emoji, on: false, http, reactions, options, ct));
        return api;
    }

    public static async Task<Results<Created<MessageDto>, Ok<MessageDto>, ContentHttpResult, ProblemHttpResult>> Send(
        string id, HttpContext http, SendService sends, IChatStore store, IOptions<NatterOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        SendRequest request;
        using (body)
        {
            var (text, e1) = body.GetString("text");
            var (clientId, e2) = body.GetString("client_id", required: false);
            var (replyTo, e3) = body.GetLong("reply_to");
            var (files, e4) = body.GetStrings("files");
            if ((e1 ?? e2 ?? e3 ?? e4) is { } bad)
            {
                return bad;
            }

            request = new SendRequest(id, null, text, clientId, replyTo, files);
        }

        var (stored, refusal) = await sends.SendAndWaitAsync(Caller.From(http.User), request, ct);
        if (stored is not { Event: { } e } result)
        {
            return Problems.Status(refusal.HttpStatus, refusal.Message);
        }

        if (!result.Duplicate)
        {
            var dto = RoomsApi.ToDto(new MessageState(e.Room, e.Seq, e.SenderId, e.From, e.Text, e.Ts, e.ClientId) { ReplyTo = e.ReplyTo, Mentions = e.Mentions, Files = e.Files });
            return TypedResults.Created($"/api/rooms/{id}/messages?after={dto.Seq - 1}&limit=1", dto);
        }

        // A repeated client_id: the first message as it is now (it may have been edited or deleted since), or, when
        // the client_id was first used for another kind of event, that event.
        var now = e.Kind == EventKind.Message ? await store.ReadMessagesAsync(e.Room, e.Seq - 1, e.Seq + 1, 1, oldestFirst: true, ct) : [];
        return now.Count == 1 ? TypedResults.Ok(RoomsApi.ToDto(now[0])) : EventObject(e);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Edit(
        string id, string seq, HttpContext http, EditService edits, IOptions<NatterOptions> options, CancellationToken ct)
    {
        if (ParseSeq(seq) is not { } target)
        {
            return BadSeq();
        }

        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes);
        if (body is null)
        {
            return error!;
        }

        EditRequest request;
        using (body)
        {
            var (text, e1) = body.GetString("text");
            var (clientId, e2) = body.GetString("client_id", required: false);
            if ((e1 ?? e2) is { } bad)
            {
                return bad;
            }

            request = new EditRequest(id, target, text, clientId);
        }

        return Answer(await edits.EditAndWaitAsync(Caller.From(http.User), request, ct));
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Delete(
        string id, string seq, HttpContext http, DeleteService deletes, IOptions<NatterOptions> options, CancellationToken ct)
    {
        if (ParseSeq(seq) is not { } target)
        {
            return BadSeq();
        }

        var (clientId, error) = await OptionalClientIdAsync(http, options);
        if (error is not null)
        {
            return error;
        }

        return Answer(await deletes.DeleteAndWaitAsync(Caller.From(http.User), new DeleteRequest(id, target, clientId), ct));
    }

    private static async Task<Results<ContentHttpResult, Ok<NoChangeDto>, ProblemHttpResult>> React(
        string id, string seq, string emoji, bool on, HttpContext http, ReactService reactions, IOptions<NatterOptions> options, CancellationToken ct)
    {
        if (ParseSeq(seq) is not { } target)
        {
            return BadSeq();
        }

        var (clientId, error) = await OptionalClientIdAsync(http, options);
        if (error is not null)
        {
            return error;
        }

        // Route values come URL-decoded except "/" (%2F), which an emoji may hold too.
        emoji = emoji.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        var (result, refusal) = await reactions.ReactAndWaitAsync(Caller.From(http.User), new ReactRequest(id, target, emoji, on, clientId), ct);
        return result switch
        {
            { Outcome: AppendOutcome.Unchanged } => TypedResults.Ok(new NoChangeDto(null)),
            { Event: { } e } => EventObject(e),
            _ => Problems.Status(refusal.HttpStatus, refusal.Message),
        };
    }

    /// <summary>The client_id of an optional JSON body {"client_id": …}; without it the call is not idempotent.</summary>
    private static async Task<(string? ClientId, ProblemHttpResult? Error)> OptionalClientIdAsync(HttpContext http, IOptions<NatterOptions> options)
    {
        var (body, error) = await JsonBody.ReadAsync(http.Request, options.Value.Limits.MaxHttpBodyBytes, optional: true);
        if (body is null)
        {
            return (null, error);
        }

        using (body)
        {
            return body.GetString("client_id", required: false);
        }
    }

    private static Results<ContentHttpResult, ProblemHttpResult> Answer((AppendResult? Result, Refusal Refusal) answer) =>
        answer.Result is { Event: { } e } ? EventObject(e) : Problems.Status(answer.Refusal.HttpStatus, answer.Refusal.Message);

    /// <summary>The event object of protocol v2: the frame's fields, with "kind" (and "type") naming it.</summary>
    private static ContentHttpResult EventObject(StoredEvent e) =>
        TypedResults.Text(Encoding.UTF8.GetString(Frames.EventObject(e)), "application/json", Encoding.UTF8, StatusCodes.Status200OK);

    private static long? ParseSeq(string raw) =>
        long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq >= 1 ? seq : null;

    private static ProblemHttpResult BadSeq() => Problems.BadRequest("The message's seq is a whole number, 1 or more.");
}
