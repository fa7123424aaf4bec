using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Natter.Server.Storage;

/// <summary>
/// Whether the store's writes are failing: readiness reports it from the last failure until a write succeeds or
/// Storage:WriteFailureHold has passed (then traffic comes back, and the next write tells again).
/// </summary>
public sealed class StoreWriteHealth(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly TimeSpan _hold = options.Value.Storage.WriteFailureHold;
    private long _failedAt = long.MinValue;
    private string _failure = "";

    public void WriteSucceeded() => Interlocked.Exchange(ref _failedAt, long.MinValue);

    public void WriteFailed(Exception error)
    {
        _failure = error.Message;
        Interlocked.Exchange(ref _failedAt, clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>Why writes fail, or null when they do not (as far as anyone tried).</summary>
    public string? WriteFailure
    {
        get
        {
            var at = Interlocked.Read(ref _failedAt);
            return at != long.MinValue && clock.GetUtcNow().ToUnixTimeMilliseconds() - at < _hold.TotalMilliseconds ? _failure : null;
        }
    }

    /// <summary>
    /// True for failures of the store rather than of the request: full disk, read-only or corrupt file, I/O errors,
    /// locks and timeouts, a lost or refused connection. Not for SQL mistakes or constraint violations (those are bugs).
    /// </summary>
    public static bool IsUnavailable(Exception e) => e switch
    {
        SqliteException s => (s.SqliteErrorCode & 0xFF) is 5 or 6 or 7 or 8 or 10 or 11 or 13 or 14 or 15 or 26,
        MySqlException m => m.IsTransient || m.ErrorCode is MySqlErrorCode.DiskFull or MySqlErrorCode.RecordFileFull
            or MySqlErrorCode.OptionPreventsStatement or MySqlErrorCode.ErrorOnWrite or MySqlErrorCode.GetErrorNumber
            or MySqlErrorCode.OutOfResources or MySqlErrorCode.OutOfMemory or MySqlErrorCode.CannotCreateFile
            or MySqlErrorCode.LockWaitTimeout or MySqlErrorCode.LockDeadlock or MySqlErrorCode.UnableToConnectToHost
            or MySqlErrorCode.ConnectionCountError or MySqlErrorCode.TooManyUserConnections or MySqlErrorCode.CommandTimeoutExpired,
        IOException or TimeoutException => true,
        _ => false,
    };
}
