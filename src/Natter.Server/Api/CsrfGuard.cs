namespace Natter.Server.Api;

/// <summary>
/// Cross-site request forgery: a request that may change state (any method but GET, HEAD, OPTIONS, TRACE) and does
/// not carry a bearer token (so the browser may have added the session cookie on its own) is refused with 403 unless
/// its Origin is allowed by <see cref="OriginPolicy"/>, or, without Origin, its Sec-Fetch-Site is "same-origin" or
/// "none". SameSite=Lax is not enough: another port of the same host is the same site. A request with neither header
/// is not from a browser that could be tricked and passes. JSON bodies also need a JSON content type (JsonBody),
/// which a cross-origin page cannot send without a CORS preflight that Natter never grants.
/// </summary>
public sealed class CsrfGuard(RequestDelegate next, OriginPolicy origins, ILogger<CsrfGuard> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var request = http.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
            || HttpMethods.IsTrace(request.Method) || HasBearer(request) || IsFromThisOrigin(request))
        {
            await next(http);
            return;
        }

        var from = request.Headers.Origin.Count > 0 ? request.Headers.Origin.ToString() : "Sec-Fetch-Site " + request.Headers["Sec-Fetch-Site"];
        Log.CrossOriginRefused(logger, request.Method, request.Path.Value ?? "", LogText.Escape(from));
        await Problems.Forbidden("This request came from another origin.").ExecuteAsync(http);
    }

    private static bool HasBearer(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    private bool IsFromThisOrigin(HttpRequest request)
    {
        if (request.Headers.Origin.Count > 0)
        {
            return origins.IsAllowed(request, request.Headers.Origin.ToString());
        }

        var site = request.Headers["Sec-Fetch-Site"];
        return site.Count == 0 || site.ToString() is "same-origin" or "none";
    }
}
