using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Natter.Server.Storage.Sqlite;

/// <summary>
/// A statement the group commit runs once per stored message (the message row, its search row, its words) or once per
/// room in a commit (its last seq read and written), prepared once per commit on the writer connection and run with positional values (?1, ?2, ...) through SQLite's own calls.
/// Run through Microsoft.Data.Sqlite each execution looked every parameter up by name (a UTF-8 copy of the name and a
/// native search per value) and built a data reader: about a third of the commit thread's managed time per message.
/// It runs inside the connection's open transaction like any command; errors surface as <see cref="SqliteException"/>.
/// </summary>
internal sealed class HotStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;

    public HotStatement(SqliteConnection conn, string sql)
    {
        _db = conn.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _stmt);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public HotStatement Bind(int index, long value)
    {
        Check(raw.sqlite3_bind_int64(_stmt, index, value));
        return this;
    }

    public HotStatement Bind(int index, long? value)
    {
        Check(value is { } v ? raw.sqlite3_bind_int64(_stmt, index, v) : raw.sqlite3_bind_null(_stmt, index));
        return this;
    }

    public HotStatement Bind(int index, string value)
    {
        Check(raw.sqlite3_bind_text(_stmt, index, value));
        return this;
    }

    /// <summary>Runs a query for one integer (the first column of its first row); null when it returns no row.</summary>
    public long? Int64()
    {
        try
        {
            var rc = raw.sqlite3_step(_stmt);
            if (rc == raw.SQLITE_ROW)
            {
                return raw.sqlite3_column_int64(_stmt, 0);
            }

            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, _db);
            }

            return null;
        }
        finally
        {
            raw.sqlite3_reset(_stmt);
        }
    }

    /// <summary>Runs the statement (which returns no rows) and gives the number of rows it changed.</summary>
    public int Run()
    {
        try
        {
            var rc = raw.sqlite3_step(_stmt);
            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc == raw.SQLITE_ROW ? raw.SQLITE_MISUSE : rc, _db);
            }

            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_stmt);
        }
    }

    private void Check(int rc) => SqliteException.ThrowExceptionForRC(rc, _db);

    public void Dispose() => _stmt.Dispose();
}
