using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Server.Api;
using Natter.Server.Rooms;
using Natter.Server.Sending;

namespace Natter.Server.Entry;

/// <summary>POST /api/rooms/{id}/messages: the HTTP entry of the send use case (the socket's is FrameHandlers).</summary>
public static class MessagesApi
{
    public static RouteGroupBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization();
        api.MapPost("/rooms/{id}/messages", Send);
        return api;
    }

    public static async Task<Results<Created<MessageDto>, Ok<MessageDto>, ProblemHttpResult>> Send(
        string id, HttpContext http, SendService sends, IOptions<NatterOptions> options, CancellationToken ct)
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
            if ((e1 ?? e2) is { } bad)
            {
                return bad;
            }

            request = new SendRequest(id, null, text, clientId);
        }

        var (stored, refusal) = await sends.SendAndWaitAsync(Caller.From(http.User), request, ct);
        if (stored is not { } result)
        {
            return refusal.HttpStatus == 503 ? Problems.Unavailable(refusal.Message) : TypedResults.Problem(refusal.Message, statusCode: refusal.HttpStatus);
        }

        var dto = RoomsApi.ToDto(result.Message);
        return result.Duplicate ? TypedResults.Ok(dto) : TypedResults.Created($"/api/rooms/{id}/messages?after={dto.Seq - 1}&limit=1", dto);
    }
}
