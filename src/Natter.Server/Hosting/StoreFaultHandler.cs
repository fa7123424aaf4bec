using Microsoft.AspNetCore.Diagnostics;
using Natter.Server.Storage;

namespace Natter.Server.Hosting;

/// <summary>
/// The one place where an HTTP request the store could not serve becomes 503 problem details with Retry-After, never
/// 500. A failure the guarded store already named (<see cref="StoreUnavailableException"/>: a full disk, a store that
/// refuses writes) is logged at most once per 10 s with a count of the rest; any other store fault (a lost
/// connection, a timeout) goes to <see cref="StoreHealth"/>, which logs an outage once and probes for its end.
/// Anything else is left to the default handler, which logs it.
/// </summary>
internal sealed class StoreFaultHandler(StoreHealth health, IProblemDetailsService problems, ILogger<StoreFaultHandler> logger) : IExceptionHandler
{
    private const int RetryAfterSeconds = 2;
    private long _lastLogged = long.MinValue;
    private int _suppressed;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (!StoreFaults.Is(exception))
        {
            return false;
        }

        if (exception is StoreUnavailableException)
        {
            LogNamedFailure(exception);
        }
        else
        {
            health.Failed("http", exception);
        }

        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The store is unavailable",
                Detail = "Nothing was changed; try again in a moment.",
            },
        });
    }

    private void LogNamedFailure(Exception e)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastLogged);
        if (now - last >= 10_000 && Interlocked.CompareExchange(ref _lastLogged, now, last) == last)
        {
            Log.StoreUnavailableAnswered(logger, e.Message, Interlocked.Exchange(ref _suppressed, 0));
        }
        else
        {
            Interlocked.Increment(ref _suppressed);
        }
    }
}
