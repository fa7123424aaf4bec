using System.Data.Common;
using System.Net.Sockets;

namespace Natter.Server.Storage;

/// <summary>Which exceptions mean "the store could not be reached or failed" (as opposed to a bug in Natter).</summary>
public static class StoreFaults
{
    /// <summary>
    /// A store failure the guarded store already named (<see cref="StoreUnavailableException"/>: full disk, database down),
    /// a database error (any provider's DbException), a timeout, or a broken connection: MySqlConnector surfaces a
    /// reset link as an IOException or SocketException.
    /// </summary>
    public static bool Is(Exception e) => e is StoreUnavailableException or DbException or TimeoutException or IOException or SocketException;
}
