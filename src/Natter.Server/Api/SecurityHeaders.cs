namespace Natter.Server.Api;

/// <summary>
/// Headers on every response: no MIME sniffing, no framing (clickjacking), no Referer leaving the site, the page's
/// content security policy as a header (a meta tag cannot say frame-ancestors), and no caching of /api answers (the
/// login answer carries the token). Set when the response starts, so error responses carry them too.
/// </summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    /// <summary>The policy of wwwroot/index.html's meta tag, plus frame-ancestors 'none'.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext http)
    {
        http.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            if (headers.ContentSecurityPolicy.Count == 0)
            {
                // A file answer sets its own, stricter policy (sandbox) before it starts.
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
            }

            headers["Referrer-Policy"] = "no-referrer";
            if (context.Request.Path.StartsWithSegments("/api") && headers.CacheControl.Count == 0)
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        }, http);
        return next(http);
    }
}
