using Microsoft.AspNetCore.Diagnostics;
using Natter.Server.Storage;

namespace Natter.Server.Hosting;

/// <summary>
/// An HTTP request that fails because the store cannot be reached gets 503 (try again) instead of 500, and the
/// failure goes to <see cref="StoreHealth"/> (logged once per outage) instead of one stack trace per request.
/// Anything else is left to the default handler, which logs it.
/// </summary>
internal sealed class StoreFaultHandler(StoreHealth health, IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (!StoreFaults.Is(exception))
        {
            return false;
        }

        health.Failed("http", exception);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The store is unavailable",
                Detail = "Nothing was done; try again in a moment.",
            },
        });
    }
}
