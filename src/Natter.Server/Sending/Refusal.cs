using Natter.Protocol;

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
        ErrorCodes.TooLarge => 413,
        ErrorCodes.RateLimited => 429,
        _ => 503,
    };
}
