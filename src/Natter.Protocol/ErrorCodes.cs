namespace Natter.Protocol;

/// <summary>The <c>code</c> values of the server's <c>error</c> frame (protocol v1, and <see cref="Limit"/> from v2).</summary>
public static class ErrorCodes
{
    /// <summary>Malformed JSON, wrong types, an unknown frame type or a binary frame.</summary>
    public const string BadRequest = "bad_request";
    /// <summary>The session is not (or no longer) valid.</summary>
    public const string Unauthorized = "unauthorized";
    /// <summary>The room exists but the user is not a member.</summary>
    public const string Forbidden = "forbidden";
    /// <summary>No such room or user.</summary>
    public const string NotFound = "not_found";
    /// <summary>The text is over the limit.</summary>
    public const string TooLarge = "too_large";
    /// <summary>The user's send rate is over the limit; the message was not stored.</summary>
    public const string RateLimited = "rate_limited";
    /// <summary>The server could not do it (for example it is shutting down); nothing was stored.</summary>
    public const string Internal = "internal";
    /// <summary>A count limit was reached (for example a message's distinct reaction emoji); HTTP 409.</summary>
    public const string Limit = "limit";
}

/// <summary>WebSocket close codes used by the server (protocol v1).</summary>
public static class CloseCodes
{
    /// <summary>The server is shutting down.</summary>
    public const int GoingAway = 1001;
    /// <summary>A frame was not valid UTF-8.</summary>
    public const int InvalidPayload = 1007;
    /// <summary>Too many bad frames.</summary>
    public const int PolicyViolation = 1008;
    /// <summary>A frame was larger than the limit.</summary>
    public const int TooLarge = 1009;
    /// <summary>The server failed to serve this socket (say, its store could not fill a gap); reconnect and sync.</summary>
    public const int InternalError = 1011;
    /// <summary>The client fell too far behind; it recovers with sync.</summary>
    public const int TryAgainLater = 1013;
    /// <summary>The session was logged out.</summary>
    public const int LoggedOut = 4001;
    /// <summary>The account was disabled by a server admin (protocol v2 §5).</summary>
    public const int AccountDisabled = 4003;
}
