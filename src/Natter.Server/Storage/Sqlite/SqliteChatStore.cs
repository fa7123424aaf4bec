using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Natter.Server.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Reads use pooled connections; the group commit
/// uses one dedicated writer connection, so batches never wait for a pool slot. Deleted text is not left behind in
/// the files: every connection runs with secure_delete (freed space is zeroed), a deletion blanks the message and
/// its edits, and a commit that deleted a message is followed by a TRUNCATE checkpoint, so no WAL frame keeps an
/// older copy of those pages.
/// </summary>
public sealed partial class SqliteChatStore : IChatStore, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly long _maxBytes;
    private long _maxPages;
    private readonly TimeProvider _clock;
    private readonly ILogger<SqliteChatStore> _logger;
    private readonly int _maxReactionEmoji;
    private readonly SemaphoreSlim _writerGate = new(1, 1);
    private SqliteConnection? _writer;
    private WriterStatements? _hot;
    private readonly int _searchIndexBatch;
    private readonly TimeSpan _searchIndexDelay;

    // Under _writerGate: how many messages' words wait in search_pending (-1: not known, counted on the next commit),
    // and when they last moved into the full-text index.
    private long _searchWaiting = -1;
    private long _searchMovedAt;

    public SqliteChatStore(IOptions<NatterOptions> options, TimeProvider clock, ILogger<SqliteChatStore> logger)
    {
        var storage = options.Value.Storage;
        var path = Path.GetFullPath(storage.SqlitePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _synchronous = storage.SqliteSynchronous;
        _maxReactionEmoji = options.Value.Limits.MaxReactionEmoji;
        _maxBytes = storage.SqliteMaxSizeMiB * 1024L * 1024L;
        _searchIndexBatch = storage.SqliteSearchIndexBatch;
        _searchIndexDelay = storage.SqliteSearchIndexDelay;
        _clock = clock;
        _logger = logger;
    }

    private long Now => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new SqliteConnection(_connectionString);
        await conn.OpenAsync(ct);
        RegisterSearchFunctions(conn);

        // A larger page cache and memory-mapped reads keep index lookups out of read() syscalls.
        await conn.ExecuteAsync($"PRAGMA synchronous={_synchronous}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; PRAGMA cache_size=-16384; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;", ct);
        if (_maxPages > 0)
        {
            // Per connection: past it a write fails with SQLITE_FULL, as on a full disk.
            await conn.ExecuteAsync($"PRAGMA max_page_count={_maxPages};", ct);
        }

        return conn;
    }

    public async Task InitializeAsync(CancellationToken ct)
    {
        var dir = Path.GetDirectoryName(new SqliteConnectionStringBuilder(_connectionString).DataSource);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);", ct);
        var current = (long)(await conn.ScalarAsync("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", ct))!;

        var pending = SqliteSchema.Migrations.Where(m => m.Version > current).ToList();
        var done = 0;
        foreach (var (version, description, sql) in pending)
        {
            Log.MigrationApplying(_logger, "sqlite", version, description, ++done, pending.Count);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await tx.ExecuteAsync(sql, ct);
            await AfterMigrationAsync(tx, version, ct);
            await tx.ExecuteAsync("INSERT INTO schema_migrations (version, description, applied_at) VALUES (@v, @d, @t)", ct,
                ("@v", version), ("@d", description), ("@t", Now));
            await tx.CommitAsync(ct);
        }

        Log.StoreReady(_logger, "sqlite", new SqliteConnectionStringBuilder(_connectionString).DataSource, SqliteSchema.Migrations[^1].Version);
        if (_maxBytes > 0)
        {
            _maxPages = Math.Max(1, _maxBytes / (long)(await conn.ScalarAsync("PRAGMA page_size", ct))!);
        }

        _writer = await OpenAsync(ct);
        _searchMovedAt = _clock.GetTimestamp();

        // Checkpoint every ~40 MB of WAL instead of every 4 MB: pages that every commit rewrites (a busy room's
        // latest index pages) are copied into the database once per checkpoint, so fewer checkpoints write far less.
        await _writer.ExecuteAsync("PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864;", ct);
    }

    public async Task<bool> PingAsync(CancellationToken ct)
    {
        try
        {
            await using var conn = await OpenAsync(ct);
            return await conn.ScalarAsync("SELECT 1", ct) is 1L;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _hot?.Dispose();
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }

        _writerGate.Dispose();
    }
}
