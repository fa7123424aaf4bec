using Natter.Protocol;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>A refusal in protocol terms: an error frame on the socket, a problem with <see cref="HttpStatus"/> over HTTP.</summary>
public readonly record struct Refusal(string Code, string Message)
{
    public int HttpStatus => Code switch
    {
        ErrorCodes.BadRequest => 400,
        ErrorCodes.Unauthorized => 401,
        ErrorCodes.Forbidden => 403,
        ErrorCodes.NotFound => 404,
        ErrorCodes.Limit => 409,
        ErrorCodes.TooLarge => 413,
        ErrorCodes.RateLimited => 429,
        _ => 503,
    };
}

/// <summary>The refusals the group commit decides (the rules that depend on the room log's state).</summary>
public static class Refusals
{
    public static Refusal Of(AppendOutcome outcome, EventKind kind) => outcome switch
    {
        AppendOutcome.NotFound when kind == EventKind.Message =>
            new(ErrorCodes.NotFound, "reply_to is not a message of this room (or it was deleted), or a file is no longer available."),
        AppendOutcome.NotFound => new(ErrorCodes.NotFound, "No such message in this room, or it was deleted."),
        AppendOutcome.Forbidden when kind == EventKind.Edit => new(ErrorCodes.Forbidden, "Only the author may edit a message."),
        AppendOutcome.Forbidden =>
            new(ErrorCodes.Forbidden, "Only the author, the room's owner or a server admin may delete a message."),
        AppendOutcome.RoomGone => new(ErrorCodes.NotFound, "No such room."),
        AppendOutcome.Limit => new(ErrorCodes.Limit, "The message already has as many different reactions as it may have."),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "not a refusal"),
    };
}
