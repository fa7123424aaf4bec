using System.Data;
using System.Data.Common;
using MySqlConnector;
using Natter.Server.Storage.Portable;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// Accounts, room administration and file metadata are the shared <see cref="PortableChatStore"/>; here are MySQL's
/// answers to its hooks.
/// </summary>
public sealed partial class MySqlChatStore : PortableChatStore
{
    private protected override TimeProvider Clock => _clock;

    private protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken ct) => await OpenAsync(ct);

    /// <summary>With this store's lock wait and idle limits (<see cref="BeginAsync"/>).</summary>
    private protected override async Task<DbTransaction> BeginTransactionAsync(DbConnection conn, IsolationLevel level, CancellationToken ct) =>
        await BeginAsync((MySqlConnection)conn, level, ct);

    /// <summary>Several nodes write at once: a row read to be changed is locked to the end of the transaction.</summary>
    private protected override string ForUpdate => " FOR UPDATE";

    private protected override bool UpdateCountsMatchedRows => false;

    private protected override string InsertIgnoringDuplicate(string insert) =>
        insert.StartsWith("INSERT INTO ", StringComparison.Ordinal)
            ? "INSERT IGNORE INTO " + insert["INSERT INTO ".Length..]
            : throw new ArgumentException("Not an INSERT INTO statement: " + insert, nameof(insert));

    private protected override async Task<long> InsertReturningIdAsync(DbConnection conn, string insert, CancellationToken ct, params (string, object?)[] args) =>
        await InsertAsync((MySqlConnection)conn, insert, ct, args);

    // The room's messages leave the search index with them (no foreign key cascades since migration 9): words first, then docs.
    private protected override async Task DeletingRoomContentAsync(DbTransaction tx, string roomId, CancellationToken ct) =>
        await tx.ExecuteAsync(
            """
            DELETE w FROM search_docs d JOIN message_words w ON w.doc_id = d.id WHERE d.room_id = @r;
            DELETE FROM search_docs WHERE room_id = @r
            """, ct, ("@r", roomId));
}
