using Microsoft.Data.Sqlite;
using Natter.Server.Common;
using Natter.Server.Storage;
using Natter.TestSupport.Specs;

namespace Natter.Tests.Infrastructure;

/// <summary>
/// A SQLite store on a file of its own that a test opens, closes and opens again (a restart, a migration), and that
/// is deleted with its WAL files when the test ends.
/// </summary>
public sealed class SqliteStoreFile(string name, Action<StorageOptions>? configure = null) : IAsyncDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"natter-{name}-{Guid.NewGuid():N}.db");

    /// <summary>The store as last opened; null while closed.</summary>
    public IChatStore? Store { get; private set; }

    public async Task<IChatStore> ReopenAsync()
    {
        await CloseAsync();
        return Store = await ChatStores.OpenSqliteAsync(Path, configure);
    }

    public async Task CloseAsync()
    {
        if (Store is not null)
        {
            await ChatStores.CloseAsync(Store);
            Store = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(Path + suffix);
        }
    }
}
