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
                catch (MySqlException e) when (e.ErrorCode is MySqlErrorCode.DuplicateFieldName or MySqlErrorCode.DuplicateKeyName)
                {
                    // A migration cut short after this statement: what it adds is there already (one ALTER is atomic).
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

    public async Task<long?> CreateUserAsync(string username, string passwordHash, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        try
        {
            return await InsertAsync(conn, "INSERT INTO users (username, password_hash, status, created_at) VALUES (@u, @h, 'active', @t)", ct,
                ("@u", username), ("@h", passwordHash), ("@t", Now));
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return null;
        }
    }

    public async Task<User?> FindUserAsync(string username, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.FirstOrDefaultAsync("SELECT id, username, password_hash, status FROM users WHERE username = @u", Rows.User, ct, ("@u", username));
    }

    public async Task<IReadOnlyList<string>> ListUsernamesAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync("SELECT username FROM users WHERE status = 'active' ORDER BY username LIMIT @l", Rows.FirstString, ct, ("@l", limit));
    }

    public async Task<IReadOnlyList<RoomMember>> FindUsersAsync(IReadOnlyCollection<string> usernames, CancellationToken ct)
    {
        var found = new List<RoomMember>();
        if (usernames.Count == 0)
        {
            return found;
        }

        await using var conn = await OpenAsync(ct);
        foreach (var chunk in usernames.Chunk(LookupChunk))
        {
            var names = chunk.Select((_, i) => "@n" + i).ToArray();
            found.AddRange(await conn.ListAsync($"SELECT id, username FROM users WHERE username IN ({string.Join(", ", names)})",
                Rows.Member, ct, [.. chunk.Select((n, i) => (names[i], (object?)n))]));
        }

        return found;
    }

    public async Task<long> CreateSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await InsertAsync(conn, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (@h, @u, @c, @e)", ct,
            ("@h", tokenHash), ("@u", userId), ("@c", Now), ("@e", expiresAt.ToUnixTimeMilliseconds()));
    }

    public async Task<Session?> FindSessionAsync(byte[] tokenHash, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.FirstOrDefaultAsync(
            """
            SELECT s.id, s.user_id, u.username, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = @h AND s.expires_at > @n AND u.status = 'active'
            """,
            Rows.Session, ct, ("@h", tokenHash), ("@n", now.ToUnixTimeMilliseconds()));
    }

    public async Task DeleteSessionAsync(long sessionId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("DELETE FROM sessions WHERE id = @id", ct, ("@id", sessionId));
    }

    public async Task<IReadOnlyList<long>> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct)
    {
        // MySQL 8 has no DELETE … RETURNING. Rows only ever cross "expires_at <= now" as time passes, and now is fixed
        // here, so the rows read are the rows deleted (a concurrent sweep on another node may delete some first).
        await using var conn = await OpenAsync(ct);
        var ids = await conn.ListAsync("SELECT id FROM sessions WHERE expires_at <= @n", r => r.GetInt64(0), ct, ("@n", now.ToUnixTimeMilliseconds()));
        if (ids.Count > 0)
        {
            await conn.ExecuteAsync("DELETE FROM sessions WHERE expires_at <= @n", ct, ("@n", now.ToUnixTimeMilliseconds()));
        }

        return ids;
    }

    public async Task<Room> CreateRoomAsync(string name, long creatorId, CancellationToken ct)
    {
        var id = RoomIds.New();
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.Unspecified, ct);
        await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, created_by, created_at) VALUES (@id, @n, 'group', @u, @t)", ct,
            ("@id", id), ("@n", name), ("@u", creatorId), ("@t", Now));
        await AddMemberAsync(tx, id, creatorId, ct);
        await tx.ExecuteAsync("UPDATE members SET role = 'owner' WHERE room_id = @r AND user_id = @u", ct, ("@r", id), ("@u", creatorId));
        await tx.CommitAsync(ct);
        return new Room(id, name, RoomKinds.Group);
    }

    /// <summary>Adds a member; true when the row is new. A duplicate key fails only the statement, not the transaction.</summary>
    private async Task<bool> AddMemberAsync(DbTransaction tx, string roomId, long userId, CancellationToken ct)
    {
        try
        {
            return await tx.ExecuteAsync("INSERT INTO members (room_id, user_id, read_seq, joined_at) VALUES (@r, @u, 0, @t)", ct,
                ("@r", roomId), ("@u", userId), ("@t", Now)) == 1;
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return false;
        }
    }

    public async Task<Room?> FindRoomAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.FirstOrDefaultAsync("SELECT id, name, kind FROM rooms WHERE id = @id AND deleted_at IS NULL", Rows.Room, ct, ("@id", roomId));
    }

    public async Task<IReadOnlyList<RoomMember>> ListMembersAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            "SELECT m.user_id, u.username FROM members m JOIN users u ON u.id = m.user_id WHERE m.room_id = @r",
            Rows.Member, ct, ("@r", roomId));
    }

    public async Task<IReadOnlyList<MyRoom>> ListRoomsOfUserAsync(long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            """
            SELECT r.id,
                   CASE WHEN r.kind = 'direct'
                        THEN (SELECT username FROM users WHERE id = CASE WHEN r.user_a = @u THEN r.user_b ELSE r.user_a END)
                        ELSE r.name END,
                   r.kind, r.last_seq, m.read_seq,
                   (SELECT COUNT(*) FROM mentions x WHERE x.user_id = @u AND x.room_id = r.id AND x.seq > m.read_seq),
                   r.topic, r.visibility, m.role, (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id)
            FROM members m JOIN rooms r ON r.id = m.room_id
            WHERE m.user_id = @u
            ORDER BY r.created_at, r.id
            """,
            Rows.MyRoomWithMentions, ct, ("@u", userId));
    }

    public async Task<IReadOnlyList<PublicRoom>> ListPublicRoomsAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            """
            SELECT r.id, r.name, (SELECT COUNT(*) FROM members m WHERE m.room_id = r.id)
            FROM rooms r WHERE r.kind = 'group' AND r.visibility = 'public' AND r.deleted_at IS NULL ORDER BY r.created_at DESC, r.id LIMIT @l
            """,
            Rows.PublicRoom, ct, ("@l", limit));
    }

    public async Task<JoinOutcome> JoinAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.Unspecified, ct);
        switch (await tx.ScalarAsync("SELECT kind FROM rooms WHERE id = @r", ct, ("@r", roomId)) as string)
        {
            case null:
                return JoinOutcome.NotFound;
            case RoomKinds.Direct:
                return JoinOutcome.DirectRoom;
        }

        var added = await AddMemberAsync(tx, roomId, userId, ct);
        await tx.CommitAsync(ct);
        return added ? JoinOutcome.Joined : JoinOutcome.AlreadyMember;
    }

    public async Task<bool> LeaveAsync(string roomId, long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        if (await conn.ScalarAsync("SELECT 1 FROM rooms WHERE id = @r", ct, ("@r", roomId)) is null)
        {
            return false;
        }

        await conn.ExecuteAsync("DELETE FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId));
        return true;
    }

    public async Task<DirectRoomResult> GetOrCreateDirectRoomAsync(long userA, long userB, CancellationToken ct)
    {
        var (a, b) = userA < userB ? (userA, userB) : (userB, userA);

        // Two nodes may create the same pair's room at once: the unique (user_a, user_b) key lets one win, and the
        // other finds the winner's room on its next attempt.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await DirectRoomOnceAsync(a, b, userA, ct);
            }
            catch (MySqlException e) when (attempt < MaxAttempts && (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry || IsRetryable(e)))
            {
                Log.StoreRetry(_logger, "direct room", attempt, e.ErrorCode.ToString());
                await Task.Delay(Backoff(attempt), ct);
            }
        }
    }

    private async Task<DirectRoomResult> DirectRoomOnceAsync(long a, long b, long creator, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.ReadCommitted, ct);
        var id = await tx.ScalarAsync("SELECT id FROM rooms WHERE user_a = @a AND user_b = @b", ct, ("@a", a), ("@b", b)) as string;
        var created = id is null;
        if (id is null)
        {
            id = RoomIds.New();
            await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, user_a, user_b, created_by, created_at) VALUES (@id, '', 'direct', @a, @b, @c, @t)", ct,
                ("@id", id), ("@a", a), ("@b", b), ("@c", creator), ("@t", Now));
        }

        var added = await AddMemberAsync(tx, id, a, ct);
        added |= await AddMemberAsync(tx, id, b, ct);
        await tx.CommitAsync(ct);
        return new DirectRoomResult(new Room(id, "", RoomKinds.Direct), created, added);
    }

    public async Task<long> GetLastSeqAsync(string roomId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ScalarAsync("SELECT last_seq FROM rooms WHERE id = @r", ct, ("@r", roomId)) as long? ?? 0;
    }

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct) =>
        AppendAsync(batch, skipBusy: false, ct);

    public Task<IReadOnlyList<AppendResult>> AppendSkippingBusyRoomsAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct) =>
        AppendAsync(batch, skipBusy: true, ct);

    private async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, bool skipBusy, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return [];
        }

        // Most batches hold no client_id stored before: the insert itself finds out (the unique key), and only a
        // batch that hits one runs again with the lookup first.
        var lookUp = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AppendOnceAsync(batch, skipBusy, lookUp, ct);
            }
            catch (ClientIdStoredException) when (!lookUp)
            {
                lookUp = true;
            }
            catch (MySqlException e) when (attempt < MaxAttempts && IsRetryable(e))
            {
                // Nothing of the batch is stored (the transaction rolled back): run it again from the start.
                Log.StoreRetry(_logger, "append", attempt, e.ErrorCode.ToString());
                await Task.Delay(Backoff(attempt), ct);
            }
        }
    }

    /// <summary>The batch's insert met a client_id stored before (the transaction is rolled back).</summary>
    private sealed class ClientIdStoredException(Exception inner) : Exception("A client_id of the batch is stored already.", inner);

    private static bool IsRetryable(MySqlException e) =>
        e.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout;

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20) * attempt);

    private readonly record struct ClientKey(string Room, long Sender, string ClientId);

    private readonly record struct MessageKey(string Room, long Seq);

    private const string ClientIdText = "CONVERT(m.client_id USING utf8mb4)";

    /// <summary>A message without a reply or mentions: every column v1 did not have keeps its default.</summary>
    private static bool IsPlain(StoredEvent e) => e.Kind == EventKind.Message && e.ReplyTo is null && e.Mentions.Count == 0;

    /// <summary>
    /// One attempt. The rooms' rows are locked first, so nothing below can change under it: the state the rules
    /// need is read once, the batch is decided in memory in order (each event seeing the ones before it), and the
    /// writes follow in as few round trips as the batch allows. A batch of plain messages costs four round trips
    /// (begin, the room locks, one script with every insert, the search index and every room's last_seq, commit),
    /// whatever its size. With lookUp the stored client_ids are read first (a batch whose insert met one).
    /// </summary>
    private async Task<IReadOnlyList<AppendResult>> AppendOnceAsync(IReadOnlyList<NewEvent> batch, bool skipBusy, bool lookUp, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // 1. Lock the batch's rooms in id order. Every append takes these locks first, so while they are held no
        //    other node can assign a seq or change a message in these rooms. The session limits ride on the first
        //    statement (no extra round trip). With skipBusy, a room another transaction holds is skipped, not waited for.
        var roomIds = batch.Select(m => m.Room).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var lastSeq = new Dictionary<string, long>(StringComparer.Ordinal);
        var facts = new Dictionary<string, RoomFacts>(StringComparer.Ordinal);
        var firstChunk = true;
        foreach (var chunk in roomIds.Chunk(LookupChunk))
        {
            var names = chunk.Select((_, i) => "@r" + i).ToArray();
            var sql = $"SELECT id, last_seq, kind, created_by FROM rooms WHERE id IN ({string.Join(", ", names)}) ORDER BY id FOR UPDATE{(skipBusy ? " SKIP LOCKED" : "")}";
            var rows = await tx.ListAsync(
                firstChunk ? SessionLimits(conn) + "; " + sql : sql,
                r => (Id: r.GetString(0), LastSeq: r.GetInt64(1), Facts: new RoomFacts(r.GetString(2), SenderModerates: false)), ct,
                [.. chunk.Select((r, i) => (names[i], (object?)r)), .. firstChunk ? SessionLimitArgs : []]);
            firstChunk = false;
            foreach (var (id, last, roomFacts) in rows)
            {
                lastSeq[id] = last;
                facts[id] = roomFacts;
            }
        }

        // A room not locked was either skipped (it exists: busy) or does not exist (the batch fails, as before).
        HashSet<string>? busy = null;
        if (skipBusy && lastSeq.Count < roomIds.Count)
        {
            var missing = roomIds.Where(r => !lastSeq.ContainsKey(r)).ToArray();
            var names = missing.Select((_, i) => "@r" + i).ToArray();
            busy = (await tx.ListAsync($"SELECT id FROM rooms WHERE id IN ({string.Join(", ", names)})", Rows.FirstString, ct,
                [.. missing.Select((r, i) => (names[i], (object?)r))])).ToHashSet(StringComparer.Ordinal);
            if (busy.Count == roomIds.Count)
            {
                return [.. batch.Select(AppendResult.NotStored)];
            }
        }

        // 2. Which client_ids are stored already (any kind): only when the insert met one (see AppendAsync).
        var live = busy is null ? batch : [.. batch.Where(m => !busy.Contains(m.Room))];
        var existing = lookUp ? await StoredClientIdsAsync(tx, live.Select(m => new ClientKey(m.Room, m.SenderId, m.ClientId)), ct) : [];

        // 3. The state the other events' rules need: their targets, and the reactions on reaction targets.
        var (targets, reactions) = live.Any(e => !e.IsPlainMessage)
            ? await ReadTargetsAsync(tx, live, ct)
            : ([], []);
        var usableFiles = live.Any(e => e.Files.Count > 0) ? await LockUsableFilesAsync(tx, live, ct) : [];
        var moderators = await ReadModeratorsAsync(tx, live, ct);

        // 4. Decide in batch order; a client_id seen earlier in the batch is a duplicate of that one.
        var results = new AppendResult[batch.Count];
        var fresh = new List<StoredEvent>(batch.Count);
        var effects = new List<(NewEvent Event, long Seq)>();
        var mentions = new List<(long UserId, string Room, long Seq)>();
        var changed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            if (busy?.Contains(e.Room) == true)
            {
                results[i] = AppendResult.NotStored(e);
                continue;
            }

            var key = new ClientKey(e.Room, e.SenderId, e.ClientId);
            if (existing.TryGetValue(key, out var first))
            {
                results[i] = new AppendResult(AppendOutcome.Duplicate, first);
                continue;
            }

            if (!lastSeq.TryGetValue(e.Room, out var last))
            {
                throw new InvalidOperationException($"Room {e.Room} does not exist.");
            }

            if (e.Files.Any(f => usableFiles.GetValueOrDefault(f.Id) != e.SenderId))
            {
                results[i] = AppendResult.Of(AppendOutcome.NotFound);
                continue;
            }

            if (!e.IsPlainMessage)
            {
                var targetSeq = e.Kind == EventKind.Message ? e.ReplyTo!.Value : e.Target;
                var outcome = RoomLogRules.Check(e, targets.TryGetValue(new MessageKey(e.Room, targetSeq), out var t) ? t : null,
                    facts[e.Room] with { SenderModerates = moderators.Contains((e.Room, e.SenderId)) });
                if (outcome == AppendOutcome.Stored && e.Kind == EventKind.Reaction)
                {
                    outcome = RoomLogRules.CheckReaction(e, reactions.GetValueOrDefault(new MessageKey(e.Room, e.Target)) ?? [], _maxReactionEmoji);
                }

                if (outcome != AppendOutcome.Stored)
                {
                    results[i] = AppendResult.Of(outcome);
                    continue;
                }
            }

            var stored = e.ToStored(last + 1);
            lastSeq[e.Room] = stored.Seq;
            changed.Add(e.Room);
            existing[key] = stored;
            fresh.Add(stored);
            results[i] = new AppendResult(AppendOutcome.Stored, stored);
            switch (e.Kind)
            {
                case EventKind.Message:
                    targets[new MessageKey(e.Room, stored.Seq)] = new TargetState(EventKind.Message, e.SenderId, false);
                    mentions.AddRange(e.Mentions.Select(m => (m.UserId, e.Room, stored.Seq)));
                    break;
                case EventKind.Delete:
                    targets[new MessageKey(e.Room, e.Target)] = targets[new MessageKey(e.Room, e.Target)] with { Deleted = true };
                    reactions.Remove(new MessageKey(e.Room, e.Target));
                    effects.Add((e, stored.Seq));
                    break;
                case EventKind.Reaction:
                    var list = reactions.TryGetValue(new MessageKey(e.Room, e.Target), out var l) ? l : reactions[new MessageKey(e.Room, e.Target)] = [];
                    if (e.On)
                    {
                        list.Add((e.Emoji!, e.SenderId));
                    }
                    else
                    {
                        list.RemoveAll(r => r.UserId == e.SenderId && string.Equals(r.Emoji, e.Emoji, StringComparison.Ordinal));
                    }

                    effects.Add((e, stored.Seq));
                    break;
                default:
                    effects.Add((e, stored.Seq));
                    break;
            }
        }

        // An event the rules refused may be the resend of a stored one, which answers with that event whatever the
        // state is now: without the lookup, those few are looked up here (refusals change nothing, so the rest stands).
        if (!lookUp && results.Any(r => r.Outcome is not (AppendOutcome.Stored or AppendOutcome.Duplicate or AppendOutcome.Busy)))
        {
            var refused = Enumerable.Range(0, batch.Count)
                .Where(i => results[i].Outcome is not (AppendOutcome.Stored or AppendOutcome.Duplicate or AppendOutcome.Busy)).ToList();
            var stored = await StoredClientIdsAsync(tx, refused.Select(i => new ClientKey(batch[i].Room, batch[i].SenderId, batch[i].ClientId)), ct);
            foreach (var i in refused)
            {
                if (stored.TryGetValue(new ClientKey(batch[i].Room, batch[i].SenderId, batch[i].ClientId), out var first))
                {
                    results[i] = new AppendResult(AppendOutcome.Duplicate, first);
                }
            }
        }

        // 5. One script (one round trip): the new log entries, many rows per statement (plain messages with v1's six
        //    columns, the others with every column), the new messages' search index, and every room's last_seq.
        var script = new MySqlScript(conn, tx);
        try
        {
            await InsertEventsAsync(script, fresh, ct);
            await IndexNewMessagesAsync(script, fresh, ct);
            if (changed.Count > 0)
            {
                SetLastSeqs(script, changed, lastSeq);
                await script.EndAsync(ct);
            }

            await script.FlushAsync(ct);
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && e.Message.Contains("messages_client_id", StringComparison.Ordinal))
        {
            // A resend of a stored event: roll back, and the batch runs again with the lookup (AppendAsync).
            await tx.RollbackAsync(ct);
            throw new ClientIdStoredException(e);
        }

        await LinkFilesAsync(tx, fresh.Where(e => e.Files.Count > 0), ct);

        // 6. The current state: new messages' mentions, then edits, deletions and reactions in batch order, and
        //    what they change in the search index.
        await InsertMentionsAsync(tx, mentions, ct);
        foreach (var (e, seq) in effects)
        {
            await ApplyAsync(tx, e, seq, ct);
        }

        await IndexEffectsForSearchAsync(tx, effects, ct);

        // 7. Commit: only now are the seqs real.
        await tx.CommitAsync(ct);
        return results;
    }

    /// <summary>
    /// The stored events with these client_ids (any kind). A row constructor IN list: the optimiser builds its ranges
    /// far faster than for the same triples OR'ed.
    /// </summary>
    private static async Task<Dictionary<ClientKey, StoredEvent>> StoredClientIdsAsync(DbTransaction tx, IEnumerable<ClientKey> wanted, CancellationToken ct)
    {
        var existing = new Dictionary<ClientKey, StoredEvent>();
        foreach (var chunk in wanted.Distinct().Chunk(LookupChunk))
        {
            var sql = new StringBuilder($"SELECT {Rows.EventColumns(ClientIdText)}, m.room_id FROM messages m JOIN users u ON u.id = m.sender_id WHERE (m.room_id, m.sender_id, m.client_id) IN (");
            var args = new List<(string, object?)>(chunk.Length * 3);
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@r{i}, @s{i}, @c{i})");
                args.Add(("@r" + i, chunk[i].Room));
                args.Add(("@s" + i, chunk[i].Sender));
                args.Add(("@c" + i, ClientIdBytes(chunk[i].ClientId)));
            }

            foreach (var e in await tx.ListAsync(sql.Append(')').ToString(), r => Rows.Event(r, r.GetString(13)), ct, [.. args]))
            {
                existing[new ClientKey(e.Room, e.SenderId, e.ClientId)] = e;
            }
        }

        return existing;
    }

    /// <summary>The batch's new log entries: plain messages with v1's six columns (the statement v1 sent), the others with every column.</summary>
    private static async Task InsertEventsAsync(MySqlScript script, IReadOnlyList<StoredEvent> fresh, CancellationToken ct)
    {
        foreach (var chunk in fresh.Where(IsPlain).Chunk(InsertChunk))
        {
            script.Text("INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var s = chunk[i];
                script.Text(i == 0 ? "(" : ", (").Value(s.Room).Text(", ").Value(s.Seq).Text(", ").Value(s.SenderId).Text(", ")
                    .Value(s.Text).Text(", ").Value(s.Ts).Text(", ").Value(ClientIdBytes(s.ClientId)).Text(")");
            }

            await script.EndAsync(ct);
        }

        foreach (var chunk in fresh.Where(e => !IsPlain(e)).Chunk(InsertChunk))
        {
            script.Text("INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id, kind, mentions, reply_to, target, emoji, reaction_on) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var s = chunk[i];
                script.Text(i == 0 ? "(" : ", (").Value(s.Room).Text(", ").Value(s.Seq).Text(", ").Value(s.SenderId).Text(", ")
                    .Value(s.Text).Text(", ").Value(s.Ts).Text(", ").Value(ClientIdBytes(s.ClientId)).Text(", ")
                    .Value(EventKinds.Name(s.Kind)).Text(", ").Value(s.Mentions.Count == 0 ? null : Rows.JoinMentions(s.Mentions)).Text(", ")
                    .Value(s.ReplyTo).Text(", ").Value(s.Kind == EventKind.Message ? null : s.Target).Text(", ")
                    .Value(s.Emoji).Text(", ").Value(s.Kind == EventKind.Reaction ? (s.On ? 1 : 0) : null).Text(")");
            }

            await script.EndAsync(ct);
        }
    }

    /// <summary>Every changed room's last_seq in one statement (the rows are locked by this transaction).</summary>
    private static void SetLastSeqs(MySqlScript script, IReadOnlyCollection<string> rooms, Dictionary<string, long> lastSeq)
    {
        script.Text("UPDATE rooms SET last_seq = CASE id");
        foreach (var room in rooms)
        {
            script.Text(" WHEN ").Value(room).Text(" THEN ").Value(lastSeq[room]);
        }

        script.Text(" END WHERE id IN (");
        var first = true;
        foreach (var room in rooms)
        {
            script.Text(first ? "" : ", ").Value(room);
            first = false;
        }

        script.Text(")");
    }

    /// <summary>The messages the batch's edits, deletions, reactions and replies name, and the reactions on reaction targets.</summary>
    private static async Task<(Dictionary<MessageKey, TargetState>, Dictionary<MessageKey, List<(string Emoji, long UserId)>>)> ReadTargetsAsync(
        DbTransaction tx, IReadOnlyList<NewEvent> batch, CancellationToken ct)
    {
        var targets = new Dictionary<MessageKey, TargetState>();
        var reactions = new Dictionary<MessageKey, List<(string Emoji, long UserId)>>();
        var wanted = batch.Where(e => !e.IsPlainMessage)
            .Select(e => (e.Room, Seq: e.Kind == EventKind.Message ? e.ReplyTo!.Value : e.Target, IsReaction: e.Kind == EventKind.Reaction))
            .Distinct()
            .ToList();
        foreach (var room in wanted.GroupBy(w => w.Room, StringComparer.Ordinal))
        {
            foreach (var chunk in room.Select(w => w.Seq).Distinct().Chunk(LookupChunk))
            {
                var names = chunk.Select((_, i) => "@s" + i).ToArray();
                var args = chunk.Select((s, i) => (names[i], (object?)s)).Append(("@r", room.Key)).ToArray();
                foreach (var (seq, state) in await tx.ListAsync(
                    $"SELECT seq, kind, sender_id, deleted FROM messages WHERE room_id = @r AND seq IN ({string.Join(", ", names)})",
                    r => (r.GetInt64(0), new TargetState(EventKinds.Parse(r.GetString(1)), r.GetInt64(2), Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture) != 0)),
                    ct, args))
                {
                    targets[new MessageKey(room.Key, seq)] = state;
                }
            }

            foreach (var chunk in room.Where(w => w.IsReaction).Select(w => w.Seq).Distinct().Chunk(LookupChunk))
            {
                var names = chunk.Select((_, i) => "@s" + i).ToArray();
                var args = chunk.Select((s, i) => (names[i], (object?)s)).Append(("@r", room.Key)).ToArray();
                foreach (var (target, emoji, user) in await tx.ListAsync(
                    $"SELECT target, emoji, user_id FROM reactions WHERE room_id = @r AND target IN ({string.Join(", ", names)}) ORDER BY seq",
                    r => (r.GetInt64(0), r.GetString(1), r.GetInt64(2)), ct, args))
                {
                    var key = new MessageKey(room.Key, target);
                    (reactions.TryGetValue(key, out var list) ? list : reactions[key] = []).Add((emoji, user));
                }
            }
        }

        return (targets, reactions);
    }

    private static async Task InsertMentionsAsync(DbTransaction tx, IReadOnlyList<(long UserId, string Room, long Seq)> mentions, CancellationToken ct)
    {
        foreach (var chunk in mentions.Chunk(InsertChunk))
        {
            var sql = new StringBuilder("INSERT IGNORE INTO mentions (user_id, room_id, seq) VALUES ");
            var args = new List<(string, object?)>(chunk.Length * 3);
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@u{i}, @r{i}, @s{i})");
                args.Add(("@u" + i, chunk[i].UserId));
                args.Add(("@r" + i, chunk[i].Room));
                args.Add(("@s" + i, chunk[i].Seq));
            }

            await tx.ExecuteAsync(sql.ToString(), ct, [.. args]);
        }
    }

    /// <summary>The current state after an edit, a deletion or a reaction change (same changes as the SQLite store).</summary>
    private static async Task ApplyAsync(DbTransaction tx, NewEvent e, long seq, CancellationToken ct)
    {
        switch (e.Kind)
        {
            case EventKind.Edit:
                await tx.ExecuteAsync("UPDATE messages SET edited_text = @x, edited_mentions = @m, edited_ts = @t WHERE room_id = @r AND seq = @g", ct,
                    ("@x", e.Text), ("@m", Rows.JoinMentions(e.Mentions.Select(m => m.Username))), ("@t", e.Ts), ("@r", e.Room), ("@g", e.Target));
                await tx.ExecuteAsync("INSERT INTO edits (room_id, target, seq) VALUES (@r, @g, @s)", ct, ("@r", e.Room), ("@g", e.Target), ("@s", seq));
                await tx.ExecuteAsync("DELETE FROM mentions WHERE room_id = @r AND seq = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await InsertMentionsAsync(tx, [.. e.Mentions.Select(m => (m.UserId, e.Room, e.Target))], ct);
                break;
            case EventKind.Delete:
                // Everything the message said goes: its text and mentions, those of its edits, its reactions.
                await tx.ExecuteAsync(
                    "UPDATE messages SET text = '', mentions = NULL, edited_text = NULL, edited_mentions = NULL, deleted = 1 WHERE room_id = @r AND seq = @g",
                    ct, ("@r", e.Room), ("@g", e.Target));
                await tx.ExecuteAsync(
                    """
                    UPDATE messages m JOIN edits x ON x.room_id = m.room_id AND x.seq = m.seq
                    SET m.text = '', m.mentions = NULL WHERE x.room_id = @r AND x.target = @g
                    """, ct, ("@r", e.Room), ("@g", e.Target));
                await tx.ExecuteAsync("DELETE FROM reactions WHERE room_id = @r AND target = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await tx.ExecuteAsync("DELETE FROM mentions WHERE room_id = @r AND seq = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await UnlinkFilesAsync(tx, e.Room, e.Target, ct);
                break;
            case EventKind.Reaction when e.On:
                await tx.ExecuteAsync("INSERT INTO reactions (room_id, target, emoji, user_id, seq) VALUES (@r, @g, @e, @u, @s)", ct,
                    ("@r", e.Room), ("@g", e.Target), ("@e", e.Emoji), ("@u", e.SenderId), ("@s", seq));
                break;
            case EventKind.Reaction:
                await tx.ExecuteAsync("DELETE FROM reactions WHERE room_id = @r AND target = @g AND emoji = @e AND user_id = @u", ct,
                    ("@r", e.Room), ("@g", e.Target), ("@e", e.Emoji), ("@u", e.SenderId));
                break;
        }
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var list = await conn.ListAsync(
            $"""
            SELECT {Rows.EventColumns(ClientIdText)}
            FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = @r AND m.seq > @a AND m.seq < @b
            ORDER BY m.seq {(oldestFirst ? "ASC" : "DESC")} LIMIT @l
            """,
            r => Rows.Event(r, roomId), ct, ("@r", roomId), ("@a", afterSeq), ("@b", beforeSeq), ("@l", limit));
        if (!oldestFirst)
        {
            list.Reverse();
        }

        return await FileRows.WithFilesAsync(conn, null, roomId, list, ct);
    }

    public async Task<IReadOnlyList<MessageState>> ReadMessagesAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // One snapshot for the messages and their reactions.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var list = await tx.ListAsync(
            $"""
            SELECT {Rows.MessageColumns(ClientIdText)}
            FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = @r AND m.seq > @a AND m.seq < @b AND m.kind = 'message'
            ORDER BY m.seq {(oldestFirst ? "ASC" : "DESC")} LIMIT @l
            """,
            r => Rows.Message(r, roomId), ct, ("@r", roomId), ("@a", afterSeq), ("@b", beforeSeq), ("@l", limit));
        if (!oldestFirst)
        {
            list.Reverse();
        }

        if (list.Count == 0)
        {
            return list;
        }

        var reactions = await tx.ListAsync(
            """
            SELECT x.target, x.emoji, u.username FROM reactions x JOIN users u ON u.id = x.user_id
            WHERE x.room_id = @r AND x.target >= @lo AND x.target <= @hi ORDER BY x.target, x.seq
            """,
            r => (r.GetInt64(0), r.GetString(1), r.GetString(2)), ct, ("@r", roomId), ("@lo", list[0].Seq), ("@hi", list[^1].Seq));
        var withFiles = await FileRows.WithFilesAsync(conn, tx, roomId, Rows.WithReactions(list, reactions), ct);
        await tx.CommitAsync(ct);
        return withFiles;
    }

    public async Task<long?> MarkReadAsync(string roomId, long userId, long seq, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await BeginAsync(conn, IsolationLevel.ReadCommitted, ct);
        var moved = await tx.ExecuteAsync(
            """
            UPDATE members m JOIN rooms r ON r.id = m.room_id
            SET m.read_seq = LEAST(@s, r.last_seq)
            WHERE m.room_id = @r AND m.user_id = @u AND m.read_seq < LEAST(@s, r.last_seq)
            """,
            ct, ("@r", roomId), ("@u", userId), ("@s", seq));
        if (moved == 0)
        {
            await tx.RollbackAsync(ct);
            return null;
        }

        var now = await tx.ScalarAsync("SELECT read_seq FROM members WHERE room_id = @r AND user_id = @u", ct, ("@r", roomId), ("@u", userId)) as long?;
        await tx.CommitAsync(ct);
        return now;
    }
}
