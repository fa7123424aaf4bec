namespace Natter.Server.Common;

/// <summary>
/// The store could not do what was asked (disk full, read-only, unreachable, timed out): nothing was changed, and the
/// caller may try again later. HTTP answers 503, the socket an internal error frame.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
