namespace Natter.Server.Api;

/// <summary>
/// A request the store could not serve (<see cref="StoreUnavailableException"/>: disk full, database down) gets 503
/// problem details with Retry-After, never 500; logged as a warning, at most one line per 10 s with a count of the rest.
/// </summary>
public sealed class StoreFailures(RequestDelegate next, ILogger<StoreFailures> logger)
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);
    private long _lastLogged = long.MinValue;
    private int _suppressed;

    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (StoreUnavailableException e) when (!http.Response.HasStarted)
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

            http.Response.Clear();
            await Problems.Unavailable(http.Response, RetryAfter, "The server cannot store anything right now; nothing was changed. Try again later.")
                .ExecuteAsync(http);
        }
    }
}
