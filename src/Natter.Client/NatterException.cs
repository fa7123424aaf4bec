using System.Net;

namespace Natter.Client;

/// <summary>The server refused a socket frame with an error frame (code from the protocol's error codes).</summary>
public sealed class NatterException : Exception
{
    public NatterException() : this("internal", "unknown error") { }

    public NatterException(string message) : this("internal", message) { }

    public NatterException(string message, Exception inner) : base(message, inner) => Code = "internal";

    public NatterException(string code, string message) : base($"{code}: {message}") => Code = code;

    /// <summary>Protocol error code: bad_request, unauthorized, forbidden, not_found, too_large, rate_limited, internal.</summary>
    public string Code { get; }
}

/// <summary>An HTTP call failed; carries the status and the problem-details title/detail when present.</summary>
public sealed class NatterHttpException : Exception
{
    public NatterHttpException() : this(HttpStatusCode.InternalServerError, null) { }

    public NatterHttpException(string message) : base(message) => StatusCode = HttpStatusCode.InternalServerError;

    public NatterHttpException(string message, Exception inner) : base(message, inner) => StatusCode = HttpStatusCode.InternalServerError;

    public NatterHttpException(HttpStatusCode status, string? detail)
        : base($"HTTP {(int)status} {status}{(string.IsNullOrEmpty(detail) ? "" : ": " + detail)}")
    {
        StatusCode = status;
        Detail = detail;
    }

    public HttpStatusCode StatusCode { get; }

    public string? Detail { get; }
}
