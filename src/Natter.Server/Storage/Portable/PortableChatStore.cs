using System.Data;
using System.Data.Common;

namespace Natter.Server.Storage.Portable;

/// <summary>
/// What both stores do alike, over System.Data.Common: accounts (<see cref="IAccountStore"/>), room administration
/// (<see cref="IRoomAdminStore"/>) and file metadata (<see cref="IFileStore"/>). Each rule is written once here;
/// a store supplies its connections and clock and the few places where the engines' SQL or locking differ (the
/// hooks below). The message log, the group commit and search stay in each store: they are where the engines differ most.
/// </summary>
public abstract partial class PortableChatStore
{
    /// <summary>The clock every stored time (Unix ms) is read from.</summary>
    private protected abstract TimeProvider Clock { get; }

    /// <summary>A new open connection; the caller disposes it.</summary>
    private protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken ct);

    /// <summary>
    /// A transaction on the connection. MySQL sets its lock-wait and idle limits in it and uses the level; SQLite's
    /// transactions take the write lock at BEGIN (one writer at a time), whatever the level.
    /// </summary>
    private protected abstract Task<DbTransaction> BeginTransactionAsync(DbConnection conn, IsolationLevel level, CancellationToken ct);

    /// <summary>
    /// " FOR UPDATE" where several nodes write to one database (MySQL): a row read with it stays locked to the end of
    /// the transaction. Empty where a transaction holds the only write lock (SQLite), so there is nothing to lock.
    /// </summary>
    private protected abstract string ForUpdate { get; }

    /// <summary>
    /// True when an UPDATE answers the rows it matched (SQLite). MySQL may answer the rows it changed (unchanged values
    /// count 0), so there a row's existence is read before it is updated.
    /// </summary>
    private protected abstract bool UpdateCountsMatchedRows { get; }

    /// <summary>The INSERT (<c>INSERT INTO t (...) VALUES (...)</c>) made to do nothing when its key is taken.</summary>
    private protected abstract string InsertIgnoringDuplicate(string insert);

    /// <summary>Runs an INSERT into a table whose integer id the database assigns; the new row's id.</summary>
    private protected abstract Task<long> InsertReturningIdAsync(DbConnection conn, string insert, CancellationToken ct, params (string, object?)[] args);

    /// <summary>After a room's deletion has committed (SQLite cuts its WAL here); nothing by default.</summary>
    private protected virtual Task AfterRoomDeletedAsync(DbConnection conn, CancellationToken ct) => Task.CompletedTask;

    /// <summary>In a room deletion's transaction, before its messages go: what the store keeps beside them (a search index no trigger keeps).</summary>
    private protected virtual Task DeletingRoomContentAsync(DbTransaction tx, string roomId, CancellationToken ct) => Task.CompletedTask;

    private long Now => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Whether rows are locked as they are read (<see cref="ForUpdate"/> is not empty).</summary>
    private bool LocksRows => ForUpdate.Length != 0;

    /// <summary>A statement on the connection, inside the transaction when there is one.</summary>
    private static async Task<int> ExecuteInAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var cmd = conn.Command(tx, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<object?> ScalarInAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var cmd = conn.Command(tx, sql, args);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is DBNull ? null : value;
    }
}
