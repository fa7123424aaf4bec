using System.Net;
using Natter.Protocol;

namespace Natter.Client;

/// <summary>Codes the client reports itself, beside the protocol's <see cref="ErrorCodes"/>.</summary>
public static class ClientErrorCodes
{
    /// <summary>The socket closed for good (logged out, or reconnecting is off) before the send was acknowledged.</summary>
    public const string Closed = "closed";
    /// <summary>An event handler threw; reported through <see cref="NatterClient.Error"/>.</summary>
    public const string Handler = "handler";
}

/// <summary>The server refused a socket frame with an error frame (code from the protocol's error codes).</summary>
public sealed class NatterException : Exception
{
    public NatterException() : this(ErrorCodes.Internal, "unknown error") { }

    public NatterException(string message) : this(ErrorCodes.Internal, message) { }

    public NatterException(string message, Exception inner) : base(message, inner) => Code = ErrorCodes.Internal;

    public NatterException(string code, string message) : base($"{code}: {message}") => Code = code;

    /// <summary>A <see cref="ErrorCodes"/> value (Natter.Protocol), or one of <see cref="ClientErrorCodes"/>.</summary>
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
