using System.Data;
using System.Data.Common;
using Natter.Server.Storage.Portable;

namespace Natter.Server.Storage.Sqlite;

/// <summary>
/// Accounts, room administration and file metadata are the shared <see cref="PortableChatStore"/>; here are SQLite's
/// answers to its hooks.
/// </summary>
public sealed partial class SqliteChatStore : PortableChatStore
{
    private protected override TimeProvider Clock => _clock;

    private protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken ct) => await OpenAsync(ct);

    /// <summary>BEGIN IMMEDIATE (the provider's default): the write lock is taken at once, so the level does not matter.</summary>
    private protected override async Task<DbTransaction> BeginTransactionAsync(DbConnection conn, IsolationLevel level, CancellationToken ct) =>
        await conn.BeginTransactionAsync(ct);

    private protected override string ForUpdate => "";

    private protected override bool UpdateCountsMatchedRows => true;

    private protected override string InsertIgnoringDuplicate(string insert) => insert + " ON CONFLICT DO NOTHING";

    private protected override async Task<long> InsertReturningIdAsync(DbConnection conn, string insert, CancellationToken ct, params (string, object?)[] args) =>
        (long)(await conn.ScalarAsync(insert + " RETURNING id", ct, args))!;

    // As after a message deletion: the WAL's older copies of the room's pages are copied back and the WAL cut, so the
    // deleted history is in no file (secure_delete zeroed the freed space). A reader holding an old snapshot can stop
    // it; the next deletion's checkpoint copies the rest.
    private protected override async Task AfterRoomDeletedAsync(DbConnection conn, CancellationToken ct) =>
        await conn.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)", ct);
}
