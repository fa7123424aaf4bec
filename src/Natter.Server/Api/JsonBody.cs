using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Natter.Server.Api;

/// <summary>
/// Reads a request's JSON object by hand, so malformed JSON, wrong types and oversized bodies all get a
/// clear 400/413 problem instead of a binder's exception. The body must say it is JSON (415 otherwise): a page on
/// another origin cannot send that content type without a CORS preflight (see CsrfGuard).
/// </summary>
public sealed class JsonBody : IDisposable
{
    private readonly JsonDocument _doc;

    private JsonBody(JsonDocument doc) => _doc = doc;

    public JsonElement Root => _doc.RootElement;

    /// <summary>
    /// Reads the body; with <paramref name="optional"/>, no body at all (or an empty one) reads as an empty object and
    /// needs no content type: there is nothing to mistake for a form (DELETE and PUT need a preflight across origins).
    /// </summary>
    public static async Task<(JsonBody? Body, ProblemHttpResult? Error)> ReadAsync(HttpRequest request, int maxBytes, bool optional = false)
    {
        if (optional && (request.ContentLength == 0
            || request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false))
        {
            return (new JsonBody(JsonDocument.Parse("{}")), null);
        }

        if (!request.HasJsonContentType())
        {
            return (null, Problems.UnsupportedMediaType("The body must be JSON (Content-Type: application/json)."));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, Problems.TooLarge($"The body is over {maxBytes} bytes."));
        }

        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[8192];
            int n;
            while ((n = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
            {
                if (limited.Length + n > maxBytes)
                {
                    return (null, Problems.TooLarge($"The body is over {maxBytes} bytes."));
                }

                limited.Write(buffer, 0, n);
            }

            var doc = optional && limited.Length == 0
                ? JsonDocument.Parse("{}")
                : JsonDocument.Parse(limited.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                return (null, Problems.BadRequest("The body must be a JSON object."));
            }

            return (new JsonBody(doc), null);
        }
        catch (JsonException)
        {
            return (null, Problems.BadRequest("The body is not valid JSON."));
        }
    }

    /// <summary>A string property; Error is set when it is missing (and required) or not a string.</summary>
    public (string? Value, ProblemHttpResult? Error) GetString(string name, bool required = true)
    {
        if (!Root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return (null, required ? Problems.BadRequest($"\"{name}\" is required.") : null);
        }

        if (p.ValueKind != JsonValueKind.String)
        {
            return (null, Problems.BadRequest($"\"{name}\" must be a string."));
        }

        return p.TryGetText(out var value) ? (value, null) : (null, Problems.BadRequest($"\"{name}\" is not valid text (a lone surrogate)."));
    }

    /// <summary>An optional whole-number property; Error when present with another type.</summary>
    public (long? Value, ProblemHttpResult? Error) GetLong(string name)
    {
        if (!Root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        return p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out var v)
            ? (v, null)
            : (null, Problems.BadRequest($"\"{name}\" must be a whole number."));
    }

    /// <summary>An optional array of strings; Error when present with another shape.</summary>
    public (string[]? Value, ProblemHttpResult? Error) GetStrings(string name)
    {
        if (!Root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        var values = new List<string>();
        foreach (var x in p.ValueKind == JsonValueKind.Array ? p.EnumerateArray() : default)
        {
            if (x.ValueKind != JsonValueKind.String || !x.TryGetText(out var value))
            {
                break;
            }

            values.Add(value!);
        }

        return p.ValueKind == JsonValueKind.Array && values.Count == p.GetArrayLength()
            ? ([.. values], null)
            : (null, Problems.BadRequest($"\"{name}\" must be a list of strings."));
    }

    public void Dispose() => _doc.Dispose();
}

/// <summary>RFC 9457 problem results used across the API.</summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(detail, statusCode: 400, title: "Bad request");
    public static ProblemHttpResult Unauthorized(string detail) => TypedResults.Problem(detail, statusCode: 401, title: "Unauthorized");
    public static ProblemHttpResult Forbidden(string detail) => TypedResults.Problem(detail, statusCode: 403, title: "Forbidden");
    public static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(detail, statusCode: 404, title: "Not found");
    public static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(detail, statusCode: 409, title: "Conflict");

    /// <summary>A refusal of the protocol's error codes as its HTTP problem (limit → 409, internal → 503, …).</summary>
    public static ProblemHttpResult Status(int status, string detail) =>
        status == 503 ? Unavailable(detail) : TypedResults.Problem(detail, statusCode: status);
    public static ProblemHttpResult TooLarge(string detail) => TypedResults.Problem(detail, statusCode: 413, title: "Too large");
    public static ProblemHttpResult UnsupportedMediaType(string detail) => TypedResults.Problem(detail, statusCode: 415, title: "Unsupported media type");
    public static ProblemHttpResult TooMany(string detail) => TypedResults.Problem(detail, statusCode: 429, title: "Too many requests");
    public static ProblemHttpResult Unavailable(string detail) => TypedResults.Problem(detail, statusCode: 503, title: "Service unavailable");

    /// <summary>429 with Retry-After in whole seconds (at least 1).</summary>
    public static ProblemHttpResult TooMany(HttpResponse response, TimeSpan wait, string detail) =>
        TooMany(string.Format(CultureInfo.InvariantCulture, detail, RetryAfter(response, wait)));

    /// <summary>503 with Retry-After in whole seconds (at least 1).</summary>
    public static ProblemHttpResult Unavailable(HttpResponse response, TimeSpan wait, string detail)
    {
        RetryAfter(response, wait);
        return Unavailable(detail);
    }

    /// <summary>Sets Retry-After; returns the seconds.</summary>
    private static int RetryAfter(HttpResponse response, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }
}
