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
public sealed class MySqlChatStore : IChatStore
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
                await conn.ExecuteAsync(sql, ct);
            }

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
        return await conn.FirstOrDefaultAsync("SELECT id, name, kind FROM rooms WHERE id = @id", Rows.Room, ct, ("@id", roomId));
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
                   r.kind, r.last_seq, m.read_seq
            FROM members m JOIN rooms r ON r.id = m.room_id
            WHERE m.user_id = @u
            ORDER BY r.created_at, r.id
            """,
            Rows.MyRoom, ct, ("@u", userId));
    }

    public async Task<IReadOnlyList<PublicRoom>> ListPublicRoomsAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            """
            SELECT r.id, r.name, (SELECT COUNT(*) FROM members m WHERE m.room_id = r.id)
            FROM rooms r WHERE r.kind = 'group' ORDER BY r.created_at DESC, r.id LIMIT @l
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

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct) =>
        AppendAsync(batch, skipBusy: false, ct);

    public Task<IReadOnlyList<AppendResult>> AppendSkippingBusyRoomsAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct) =>
        AppendAsync(batch, skipBusy: true, ct);

    private async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewMessage> batch, bool skipBusy, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return [];
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AppendOnceAsync(batch, skipBusy, ct);
            }
            catch (MySqlException e) when (attempt < MaxAttempts && IsRetryable(e))
            {
                // Nothing of the batch is stored (the transaction rolled back): run it again from the start.
                Log.StoreRetry(_logger, "append", attempt, e.ErrorCode.ToString());
                await Task.Delay(Backoff(attempt), ct);
            }
        }
    }

    private static bool IsRetryable(MySqlException e) =>
        e.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout;

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20) * attempt);

    private readonly record struct ClientKey(string Room, long Sender, string ClientId);

    private async Task<IReadOnlyList<AppendResult>> AppendOnceAsync(IReadOnlyList<NewMessage> batch, bool skipBusy, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // 1. Lock the batch's rooms in id order. Every append takes these locks first, so while they are held no
        //    other node can assign a seq or insert a message in these rooms. The session limits ride on the first
        //    statement (no extra round trip). With skipBusy, a room another transaction holds is skipped, not waited for.
        var roomIds = batch.Select(m => m.Room).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var lastSeq = new Dictionary<string, long>(StringComparer.Ordinal);
        var first = true;
        foreach (var chunk in roomIds.Chunk(LookupChunk))
        {
            var names = chunk.Select((_, i) => "@r" + i).ToArray();
            var sql = $"SELECT id, last_seq FROM rooms WHERE id IN ({string.Join(", ", names)}) ORDER BY id FOR UPDATE{(skipBusy ? " SKIP LOCKED" : "")}";
            var rows = await tx.ListAsync(
                first ? SessionLimits(conn) + "; " + sql : sql,
                r => (Id: r.GetString(0), LastSeq: r.GetInt64(1)), ct,
                [.. chunk.Select((r, i) => (names[i], (object?)r)), .. first ? SessionLimitArgs : []]);
            first = false;
            foreach (var (id, last) in rows)
            {
                lastSeq[id] = last;
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

        // 2. Which client_ids are stored already.
        var existing = new Dictionary<ClientKey, (long Seq, string Text, long Ts)>();
        var keys = batch.Where(m => busy?.Contains(m.Room) != true).Select(m => new ClientKey(m.Room, m.SenderId, m.ClientId)).Distinct().ToList();
        foreach (var chunk in keys.Chunk(LookupChunk))
        {
            var sql = new StringBuilder("SELECT room_id, sender_id, CONVERT(client_id USING utf8mb4), seq, text, ts FROM messages WHERE ");
            var args = new List<(string, object?)>(chunk.Length * 3);
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : " OR ").Append(CultureInfo.InvariantCulture, $"(room_id = @r{i} AND sender_id = @s{i} AND client_id = @c{i})");
                args.Add(("@r" + i, chunk[i].Room));
                args.Add(("@s" + i, chunk[i].Sender));
                args.Add(("@c" + i, ClientIdBytes(chunk[i].ClientId)));
            }

            var rows = await tx.ListAsync(sql.ToString(),
                r => (Key: new ClientKey(r.GetString(0), r.GetInt64(1), r.GetString(2)), Row: (r.GetInt64(3), r.GetString(4), r.GetInt64(5))), ct,
                [.. args]);
            foreach (var (key, row) in rows)
            {
                existing[key] = row;
            }
        }

        // 3. Assign seqs in batch order; a client_id seen earlier in the batch is a duplicate of that one.
        var results = new AppendResult[batch.Count];
        var fresh = new List<StoredMessage>(batch.Count);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            var m = batch[i];
            if (busy?.Contains(m.Room) == true)
            {
                results[i] = AppendResult.NotStored(m);
                continue;
            }

            var key = new ClientKey(m.Room, m.SenderId, m.ClientId);
            if (existing.TryGetValue(key, out var old))
            {
                results[i] = new AppendResult(new StoredMessage(m.Room, old.Seq, m.SenderId, m.From, old.Text, old.Ts, m.ClientId), true);
                continue;
            }

            if (!lastSeq.TryGetValue(m.Room, out var last))
            {
                throw new InvalidOperationException($"Room {m.Room} does not exist.");
            }

            var stored = new StoredMessage(m.Room, last + 1, m.SenderId, m.From, m.Text, m.Ts, m.ClientId);
            lastSeq[m.Room] = stored.Seq;
            changed.Add(m.Room);
            existing[key] = (stored.Seq, stored.Text, stored.Ts);
            fresh.Add(stored);
            results[i] = new AppendResult(stored, false);
        }

        // 4. Insert the new messages, many rows per statement.
        foreach (var chunk in fresh.Chunk(InsertChunk))
        {
            var sql = new StringBuilder("INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id) VALUES ");
            var args = new List<(string, object?)>(chunk.Length * 6);
            for (var i = 0; i < chunk.Length; i++)
            {
                var s = chunk[i];
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@r{i}, @q{i}, @u{i}, @x{i}, @t{i}, @c{i})");
                args.Add(("@r" + i, s.Room));
                args.Add(("@q" + i, s.Seq));
                args.Add(("@u" + i, s.SenderId));
                args.Add(("@x" + i, s.Text));
                args.Add(("@t" + i, s.Ts));
                args.Add(("@c" + i, ClientIdBytes(s.ClientId)));
            }

            await tx.ExecuteAsync(sql.ToString(), ct, [.. args]);
        }

        // 5. Move each room's last_seq, then commit: only now are the seqs real.
        await using (var update = conn.Command(tx, "UPDATE rooms SET last_seq = @s WHERE id = @r", ("@s", 0L), ("@r", "")))
        {
            foreach (var room in changed.Order(StringComparer.Ordinal))
            {
                update.Parameters["@s"].Value = lastSeq[room];
                update.Parameters["@r"].Value = room;
                await update.ExecuteNonQueryAsync(ct);
            }
        }

        await tx.CommitAsync(ct);
        return results;
    }

    public async Task<IReadOnlyList<StoredMessage>> ReadMessagesAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var list = await conn.ListAsync(
            $"""
            SELECT m.seq, m.sender_id, u.username, m.text, m.ts, CONVERT(m.client_id USING utf8mb4)
            FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = @r AND m.seq > @a AND m.seq < @b
            ORDER BY m.seq {(oldestFirst ? "ASC" : "DESC")} LIMIT @l
            """,
            r => Rows.Message(r, roomId), ct, ("@r", roomId), ("@a", afterSeq), ("@b", beforeSeq), ("@l", limit));
        if (!oldestFirst)
        {
            list.Reverse();
        }

        return list;
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
