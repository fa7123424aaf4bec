using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// The cluster store: MySQL 8 or MariaDB 10.6+ (InnoDB, utf8mb4), shared by every node. Behaves like the SQLite
/// store. The difference that matters: several nodes append at once, so the group commit locks the batch's room
/// rows (SELECT ... FOR UPDATE, in sorted id order so two nodes never wait on each other in a cycle) before it
/// assigns seqs; a deadlock or lock timeout rolls the batch back and runs it again. All SQL is parameterised.
/// A node cut off in the middle of a transaction must not hold its locks for long: every transaction sets a short
/// lock wait (Storage.MySqlLockWaitTimeout) and a limit on how long the server keeps it open while idle
/// (Storage.MySqlIdleTransactionTimeout: MariaDB's idle_transaction_timeout, MySQL's wait_timeout), and every
/// statement has a timeout (Storage.MySqlCommandTimeout). The group commit can also leave busy rooms out
/// (<see cref="AppendSkippingBusyRoomsAsync"/>), so one room locked elsewhere does not hold up the others.
/// </summary>
public sealed partial class MySqlChatStore : IChatStore
{
    private const int MaxAttempts = 6;
    private const int LookupChunk = 300;
    private const int InsertChunk = 200;

    private readonly string _connectionString;
    private readonly string _database;
    private readonly TimeProvider _clock;
    private readonly ILogger<MySqlChatStore> _logger;
    private readonly int _lockWaitSeconds;
    private readonly int _idleTransactionSeconds;
    private readonly int _maxReactionEmoji;

    public MySqlChatStore(IOptions<NatterOptions> options, TimeProvider clock, ILogger<MySqlChatStore> logger)
    {
        var builder = new MySqlConnectionStringBuilder(options.Value.Storage.MySqlConnectionString
            ?? throw new InvalidOperationException("Natter:Storage:MySqlConnectionString is not set."));
        _database = builder.Database;
        if (string.IsNullOrEmpty(_database))
        {
            throw new InvalidOperationException("Natter:Storage:MySqlConnectionString must name a database (Database=...).");
        }

        var storage = options.Value.Storage;
        builder.DefaultCommandTimeout = (uint)Math.Ceiling(storage.MySqlCommandTimeout.TotalSeconds);
        _lockWaitSeconds = (int)Math.Ceiling(storage.MySqlLockWaitTimeout.TotalSeconds);
        _idleTransactionSeconds = (int)Math.Ceiling(storage.MySqlIdleTransactionTimeout.TotalSeconds);
        _connectionString = builder.ConnectionString;
        _maxReactionEmoji = options.Value.Limits.MaxReactionEmoji;
        _clock = clock;
        _logger = logger;
    }

    private long Now => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task<MySqlConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new MySqlConnection(_connectionString);
        try
        {
            await conn.OpenAsync(ct);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private static byte[] ClientIdBytes(string clientId) => Encoding.UTF8.GetBytes(clientId);

    /// <summary>
    /// The session limits every transaction runs under (parameters @lock_wait and @idle): a lock wait gives up after
    /// MySqlLockWaitTimeout, and the server rolls back a transaction left idle past MySqlIdleTransactionTimeout
    /// (the node that opened it was cut off), which releases its room locks. MariaDB has idle_transaction_timeout;
    /// MySQL has none, and its wait_timeout (any idle session) does the same for a transaction left open.
    /// </summary>
    private static string SessionLimits(MySqlConnection conn) =>
        conn.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase)
            ? "SET SESSION innodb_lock_wait_timeout = @lock_wait, idle_transaction_timeout = @idle"
            : "SET SESSION innodb_lock_wait_timeout = @lock_wait, wait_timeout = @idle";

    private (string, object?)[] SessionLimitArgs => [("@lock_wait", _lockWaitSeconds), ("@idle", _idleTransactionSeconds)];

    /// <summary>A transaction whose locks cannot outlive this node's link to the server by more than the idle limit.</summary>
    private async Task<MySqlTransaction> BeginAsync(MySqlConnection conn, IsolationLevel level, CancellationToken ct)
    {
        var tx = await conn.BeginTransactionAsync(level, ct);
        try
        {
            await tx.ExecuteAsync(SessionLimits(conn), ct, SessionLimitArgs);
            return tx;
        }
        catch
        {
            await tx.DisposeAsync();
            throw;
        }
    }

    public async Task InitializeAsync(CancellationToken ct)
    {
        var where = Describe();
        try
        {
            await CreateDatabaseIfMissingAsync(ct);
            await MigrateAsync(ct);
        }
        catch (MySqlException e)
        {
            throw new InvalidOperationException(
                $"The MySQL store at {where} cannot be used (Natter:Storage:MySqlConnectionString): {e.Message}", e);
        }

        Log.StoreReady(_logger, "mysql", where, MySqlSchema.Migrations[^1].Version);
    }

    private string Describe()
    {
        var b = new MySqlConnectionStringBuilder(_connectionString);
        return $"{b.Server}:{b.Port}/{b.Database}";
    }

    /// <summary>The database in the connection string is created (utf8mb4) when it does not exist and the user may create it.</summary>
    private async Task CreateDatabaseIfMissingAsync(CancellationToken ct)
    {
        try
        {
            await using var probe = await OpenAsync(ct);
            return;
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.UnknownDatabase)
        {
        }

        // A schema name cannot be a parameter: allow only plain names, and quote it.
        if (!_database.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$'))
        {
            throw new InvalidOperationException($"Create the MySQL database '{_database}' by hand: Natter creates only databases named with letters, digits and '_'.");
        }

        var server = new MySqlConnectionStringBuilder(_connectionString) { Database = "" };
        await using var conn = new MySqlConnection(server.ConnectionString);
        await conn.OpenAsync(ct);
        await conn.ExecuteAsync($"CREATE DATABASE IF NOT EXISTS `{_database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", ct);
        Log.DatabaseCreated(_logger, _database);
    }

    private async Task MigrateAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);

        // Nodes starting together migrate one at a time; the lock is per connection and released on close.
        var lockName = "natter_schema_" + _database;
        if (Convert.ToInt64(await conn.ScalarAsync("SELECT GET_LOCK(@name, 60)", ct, ("@name", lockName)), CultureInfo.InvariantCulture) != 1)
        {
            throw new InvalidOperationException("Another node held the schema migration lock for 60 s.");
        }

        await conn.ExecuteAsync(
            $"CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL) {MySqlSchema.Charset}", ct);
        var current = Convert.ToInt64(await conn.ScalarAsync("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", ct), CultureInfo.InvariantCulture);

        var pending = MySqlSchema.Migrations.Where(m => m.Version > current).ToList();
        var done = 0;
        foreach (var (version, description, statements) in pending)
        {
            Log.MigrationApplying(_logger, "mysql", version, description, ++done, pending.Count);
            foreach (var sql in statements)
            {
                try
                {
                    await conn.ExecuteAsync(sql, ct);
                }
                catch (MySqlException e) when (e.ErrorCode is MySqlErrorCode.DuplicateFieldName or MySqlErrorCode.DuplicateKeyName or MySqlErrorCode.CannotDropFieldOrKey)
                {
                    // A migration cut short after this statement: what it adds is there already, or what it drops is
                    // gone (one ALTER is atomic).
                }
            }

            await AfterMigrationAsync(conn, version, ct);
            await conn.ExecuteAsync("INSERT INTO schema_migrations (version, description, applied_at) VALUES (@v, @d, @t)", ct,
                ("@v", version), ("@d", description), ("@t", Now));
        }

        await conn.ScalarAsync("SELECT RELEASE_LOCK(@name)", ct, ("@name", lockName));
    }

    public async Task<bool> PingAsync(CancellationToken ct)
    {
        try
        {
            await using var conn = await OpenAsync(ct);
            return Convert.ToInt64(await conn.ScalarAsync("SELECT 1", ct), CultureInfo.InvariantCulture) == 1;
        }
        catch (Exception e) when (e is MySqlException or InvalidOperationException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Runs an INSERT into a table with an AUTO_INCREMENT key; the new row's id.</summary>
    private static async Task<long> InsertAsync(MySqlConnection conn, string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var cmd = (MySqlCommand)conn.Command(null, sql, args);
        await cmd.ExecuteNonQueryAsync(ct);
        return cmd.LastInsertedId;
    }
}
