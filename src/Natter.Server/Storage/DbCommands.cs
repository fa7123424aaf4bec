using System.Data.Common;

namespace Natter.Server.Storage;

/// <summary>
/// The command plumbing both stores share, over System.Data.Common: SQL text with <c>@name</c> parameters, run once.
/// Each store keeps its own SQL. A call inside a transaction goes through the transaction (both providers refuse a
/// command whose Transaction is not the connection's open one). Hot paths that run one statement many times create
/// it once with <see cref="Command"/> and set <c>Parameters[i].Value</c> for each run.
/// </summary>
internal static class DbCommands
{
    public static DbCommand Command(this DbConnection conn, DbTransaction? tx, string sql, params ReadOnlySpan<(string Name, object? Value)> args)
    {
        var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    /// <summary>Runs a statement; the number of rows it changed.</summary>
    public static Task<int> ExecuteAsync(this DbConnection conn, string sql, CancellationToken ct, params (string, object?)[] args) =>
        ExecuteAsync(conn, null, sql, args, ct);

    public static Task<int> ExecuteAsync(this DbTransaction tx, string sql, CancellationToken ct, params (string, object?)[] args) =>
        ExecuteAsync(tx.Connection!, tx, sql, args, ct);

    /// <summary>The first column of the first row; null when there is no row or the value is NULL.</summary>
    public static Task<object?> ScalarAsync(this DbConnection conn, string sql, CancellationToken ct, params (string, object?)[] args) =>
        ScalarAsync(conn, null, sql, args, ct);

    public static Task<object?> ScalarAsync(this DbTransaction tx, string sql, CancellationToken ct, params (string, object?)[] args) =>
        ScalarAsync(tx.Connection!, tx, sql, args, ct);

    /// <summary>The first row, mapped; null when there is none.</summary>
    public static Task<T?> FirstOrDefaultAsync<T>(this DbConnection conn, string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string, object?)[] args)
        where T : class =>
        FirstOrDefaultAsync(conn, null, sql, map, args, ct);

    /// <summary>Every row, mapped, in the order the query returns them.</summary>
    public static Task<List<T>> ListAsync<T>(this DbConnection conn, string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string, object?)[] args) =>
        ListAsync(conn, null, sql, map, args, ct);

    public static Task<List<T>> ListAsync<T>(this DbTransaction tx, string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string, object?)[] args) =>
        ListAsync(tx.Connection!, tx, sql, map, args, ct);

    private static async Task<int> ExecuteAsync(DbConnection conn, DbTransaction? tx, string sql, (string, object?)[] args, CancellationToken ct)
    {
        await using var cmd = conn.Command(tx, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<object?> ScalarAsync(DbConnection conn, DbTransaction? tx, string sql, (string, object?)[] args, CancellationToken ct)
    {
        await using var cmd = conn.Command(tx, sql, args);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is DBNull ? null : value;
    }

    private static async Task<T?> FirstOrDefaultAsync<T>(DbConnection conn, DbTransaction? tx, string sql, Func<DbDataReader, T> map, (string, object?)[] args, CancellationToken ct)
        where T : class
    {
        await using var cmd = conn.Command(tx, sql, args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? map(r) : null;
    }

    private static async Task<List<T>> ListAsync<T>(DbConnection conn, DbTransaction? tx, string sql, Func<DbDataReader, T> map, (string, object?)[] args, CancellationToken ct)
    {
        await using var cmd = conn.Command(tx, sql, args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await r.ReadAsync(ct))
        {
            list.Add(map(r));
        }

        return list;
    }
}

/// <summary>
/// Commands of one transaction, each prepared on first use and run again with new values: for the statements a
/// group commit runs for some events only (edits, reactions, mentions), so a batch prepares each of them once.
/// </summary>
internal sealed class CommandCache(DbConnection conn, DbTransaction tx) : IAsyncDisposable
{
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>The command for this SQL, with these parameter values (the same names every time).</summary>
    public DbCommand Get(string sql, params ReadOnlySpan<(string Name, object? Value)> args)
    {
        if (!_commands.TryGetValue(sql, out var cmd))
        {
            _commands[sql] = cmd = conn.Command(tx, sql, args);
            return cmd;
        }

        foreach (var (name, value) in args)
        {
            cmd.Parameters[name].Value = value ?? DBNull.Value;
        }

        return cmd;
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string, object?)[] args) =>
        await Get(sql, args).ExecuteNonQueryAsync(ct);

    public async Task<List<T>> ListAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string, object?)[] args)
    {
        await using var r = await Get(sql, args).ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await r.ReadAsync(ct))
        {
            list.Add(map(r));
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var cmd in _commands.Values)
        {
            await cmd.DisposeAsync();
        }
    }
}
