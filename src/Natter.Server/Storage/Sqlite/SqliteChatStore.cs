using System.Data;
using System.Data.Common;
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

    public async Task<long?> CreateUserAsync(string username, string passwordHash, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ScalarAsync(
            "INSERT INTO users (username, password_hash, status, created_at) VALUES (@u, @h, 'active', @t) ON CONFLICT(username) DO NOTHING RETURNING id",
            ct, ("@u", username), ("@h", passwordHash), ("@t", Now)) as long?;
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
        foreach (var chunk in usernames.Chunk(500))
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
        return (long)(await conn.ScalarAsync(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (@h, @u, @c, @e) RETURNING id",
            ct, ("@h", tokenHash), ("@u", userId), ("@c", Now), ("@e", expiresAt.ToUnixTimeMilliseconds())))!;
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
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync("DELETE FROM sessions WHERE expires_at <= @n RETURNING id", r => r.GetInt64(0), ct, ("@n", now.ToUnixTimeMilliseconds()));
    }

    public async Task<Room> CreateRoomAsync(string name, long creatorId, CancellationToken ct)
    {
        var id = RoomIds.New();
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, created_by, created_at) VALUES (@id, @n, 'group', @u, @t)", ct,
            ("@id", id), ("@n", name), ("@u", creatorId), ("@t", Now));
        await AddMemberAsync(tx, id, creatorId, ct);
        await tx.ExecuteAsync("UPDATE members SET role = 'owner' WHERE room_id = @r AND user_id = @u", ct, ("@r", id), ("@u", creatorId));
        await tx.CommitAsync(ct);
        return new Room(id, name, RoomKinds.Group);
    }

    /// <summary>Adds a member; true when the row is new.</summary>
    private async Task<bool> AddMemberAsync(DbTransaction tx, string roomId, long userId, CancellationToken ct) =>
        await tx.ExecuteAsync("INSERT INTO members (room_id, user_id, read_seq, joined_at) VALUES (@r, @u, 0, @t) ON CONFLICT DO NOTHING", ct,
            ("@r", roomId), ("@u", userId), ("@t", Now)) == 1;

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
        await using var tx = await conn.BeginTransactionAsync(ct);
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
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var id = await tx.ScalarAsync("SELECT id FROM rooms WHERE user_a = @a AND user_b = @b", ct, ("@a", a), ("@b", b)) as string;
        var created = id is null;
        if (id is null)
        {
            id = RoomIds.New();
            await tx.ExecuteAsync("INSERT INTO rooms (id, name, kind, user_a, user_b, created_by, created_at) VALUES (@id, '', 'direct', @a, @b, @c, @t)", ct,
                ("@id", id), ("@a", a), ("@b", b), ("@c", userA), ("@t", Now));
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

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct)
    {
        await _writerGate.WaitAsync(ct);
        try
        {
            var conn = _writer ?? throw new InvalidOperationException("The store is not initialized.");
            var (results, deleted) = await AppendInTransactionAsync(conn, batch, ct);
            if (deleted)
            {
                await CheckpointAsync(conn, ct);
            }

            return results;
        }
        finally
        {
            _writerGate.Release();
        }
    }

    // A plain message (no reply, no mentions) is stored with v1's six columns: every other column stays NULL.
    private const string InsertMessage = """
        INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id, doc) VALUES (@r, @s, @u, @x, @t, @c, @d)
        ON CONFLICT(room_id, sender_id, client_id) DO NOTHING
        """;

    private const string InsertEvent = """
        INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id, kind, mentions, reply_to, target, emoji, reaction_on, doc)
        VALUES (@r, @s, @u, @x, @t, @c, @k, @m, @p, @g, @e, @o, @d)
        ON CONFLICT(room_id, sender_id, client_id) DO NOTHING
        """;

    private async Task<(AppendResult[] Results, bool Deleted)> AppendInTransactionAsync(SqliteConnection conn, IReadOnlyList<NewEvent> batch, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.Serializable, ct);

        // The hot path (plain messages) runs one insert per message, built once per batch and run with new parameter
        // values, as in v1; what other events need is prepared on first use.
        await using var readSeq = conn.Command(tx, "SELECT last_seq FROM rooms WHERE id = @r", ("@r", ""));
        await using var insertMessage = conn.Command(tx, InsertMessage, ("@r", ""), ("@s", 0L), ("@u", 0L), ("@x", ""), ("@t", 0L), ("@c", ""), ("@d", 0L));
        await using var index = new SearchIndexWriter(conn, tx);
        await using var more = new CommandCache(conn, tx);

        var lastSeq = new Dictionary<string, long>();
        var results = new AppendResult[batch.Count];
        var deleted = false;
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            if (!lastSeq.TryGetValue(e.Room, out var last))
            {
                readSeq.Parameters[0].Value = e.Room;
                last = (long)(await readSeq.ExecuteScalarAsync(ct))!;
                lastSeq[e.Room] = last;
            }

            if (!e.IsPlainMessage || e.Files.Count > 0)
            {
                // A repeated client_id is answered with the first event before any rule: its target may have changed since.
                if (await FindByClientIdAsync(more, e, ct) is { } first)
                {
                    results[i] = new AppendResult(AppendOutcome.Duplicate, first);
                    continue;
                }

                var outcome = e.Files.Count > 0 && !await FilesUsableAsync(more, e, ct) ? AppendOutcome.NotFound
                    : e.IsPlainMessage ? AppendOutcome.Stored
                    : await CheckAsync(more, e, ct);
                if (outcome != AppendOutcome.Stored)
                {
                    results[i] = AppendResult.Of(outcome);
                    continue;
                }
            }

            var seq = last + 1;
            var plain = e.IsPlainMessage && e.Mentions.Count == 0;
            long? doc = e.Kind == EventKind.Message ? await index.NextIdAsync(ct) : null;
            DbCommand insert;
            if (plain)
            {
                insert = insertMessage;
                var p = insert.Parameters;
                p[0].Value = e.Room;
                p[1].Value = seq;
                p[2].Value = e.SenderId;
                p[3].Value = e.Text;
                p[4].Value = e.Ts;
                p[5].Value = e.ClientId;
                p[6].Value = doc;
            }
            else
            {
                insert = more.Get(InsertEvent,
                    ("@r", e.Room), ("@s", seq), ("@u", e.SenderId), ("@x", e.Text), ("@t", e.Ts), ("@c", e.ClientId),
                    ("@k", e.Kind == EventKind.Message ? null : EventKinds.Name(e.Kind)),
                    ("@m", e.Mentions.Count == 0 ? null : Rows.JoinMentions(e.Mentions.Select(m => m.Username))),
                    ("@p", e.ReplyTo), ("@g", e.Kind == EventKind.Message ? null : e.Target), ("@e", e.Emoji),
                    ("@o", e.Kind == EventKind.Reaction ? (e.On ? 1 : 0) : null), ("@d", doc));
            }

            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                // Only a message without a reply gets here (the others looked their client_id up first): it was stored before.
                results[i] = new AppendResult(AppendOutcome.Duplicate, await FindByClientIdAsync(more, e, ct));
                continue;
            }

            lastSeq[e.Room] = seq;
            if (doc is { } id)
            {
                await index.AddAsync(id, e.Room, seq, e.SenderId, e.Text, ct);
            }

            if (!plain)
            {
                await ApplyAsync(more, e, seq, ct);
            }

            if (e.Files.Count > 0)
            {
                await LinkFilesAsync(more, e, seq, ct);
            }

            deleted |= e.Kind == EventKind.Delete;
            results[i] = new AppendResult(AppendOutcome.Stored, e.ToStored(seq));
        }

        await using var update = conn.Command(tx, "UPDATE rooms SET last_seq = @s WHERE id = @r AND last_seq <> @s", ("@s", 0L), ("@r", ""));
        foreach (var (room, seq) in lastSeq)
        {
            update.Parameters[0].Value = seq;
            update.Parameters[1].Value = room;
            await update.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return (results, deleted);
    }

    private static async Task<StoredEvent?> FindByClientIdAsync(CommandCache cmds, NewEvent e, CancellationToken ct) =>
        (await cmds.ListAsync(
            $"""
            SELECT {Rows.EventColumns("m.client_id")} FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = @r AND m.sender_id = @u AND m.client_id = @c
            """,
            r => Rows.Event(r, e.Room), ct, ("@r", e.Room), ("@u", e.SenderId), ("@c", e.ClientId))).FirstOrDefault();

    /// <summary>The rules of <see cref="RoomLogRules"/> against the state inside this transaction.</summary>
    private async Task<AppendOutcome> CheckAsync(CommandCache cmds, NewEvent e, CancellationToken ct)
    {
        var targetSeq = e.Kind == EventKind.Message ? e.ReplyTo!.Value : e.Target;
        var target = (await cmds.ListAsync("SELECT COALESCE(kind, 'message'), sender_id, COALESCE(deleted, 0) FROM messages WHERE room_id = @r AND seq = @s",
            r => (TargetState?)new TargetState(EventKinds.Parse(r.GetString(0)), r.GetInt64(1), r.GetInt64(2) != 0), ct,
            ("@r", e.Room), ("@s", targetSeq))).FirstOrDefault();
        var room = e.Kind != EventKind.Delete ? default : (await cmds.ListAsync(
            "SELECT r.kind, m.role FROM rooms r LEFT JOIN members m ON m.room_id = r.id AND m.user_id = @u WHERE r.id = @r",
            r => new RoomFacts(r.GetString(0), RoomRoles.Moderates(r.IsDBNull(1) ? null : r.GetString(1))), ct, ("@r", e.Room), ("@u", e.SenderId))).Single();
        var outcome = RoomLogRules.Check(e, target, room);
        if (outcome != AppendOutcome.Stored || e.Kind != EventKind.Reaction)
        {
            return outcome;
        }

        var current = await cmds.ListAsync("SELECT emoji, user_id FROM reactions WHERE room_id = @r AND target = @g",
            r => (r.GetString(0), r.GetInt64(1)), ct, ("@r", e.Room), ("@g", e.Target));
        return RoomLogRules.CheckReaction(e, current, _maxReactionEmoji);
    }

    /// <summary>The current state after a stored event: mentions, edits, deletions, reactions.</summary>
    private static async Task ApplyAsync(CommandCache cmds, NewEvent e, long seq, CancellationToken ct)
    {
        switch (e.Kind)
        {
            case EventKind.Message:
                await AddMentionsAsync(cmds, e, seq, ct);
                break;
            case EventKind.Edit:
                await cmds.ExecuteAsync("UPDATE messages SET edited_text = @x, edited_mentions = @m, edited_ts = @t WHERE room_id = @r AND seq = @g", ct,
                    ("@x", e.Text), ("@m", Rows.JoinMentions(e.Mentions.Select(m => m.Username))), ("@t", e.Ts), ("@r", e.Room), ("@g", e.Target));
                await cmds.ExecuteAsync("INSERT INTO edits (room_id, target, seq) VALUES (@r, @g, @s)", ct, ("@r", e.Room), ("@g", e.Target), ("@s", seq));
                await cmds.ExecuteAsync("DELETE FROM mentions WHERE room_id = @r AND seq = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await AddMentionsAsync(cmds, e, e.Target, ct);
                break;
            case EventKind.Delete:
                // Everything the message said goes: its text and mentions, those of its edits, its reactions.
                await cmds.ExecuteAsync(
                    "UPDATE messages SET text = '', mentions = NULL, edited_text = NULL, edited_mentions = NULL, deleted = 1 WHERE room_id = @r AND seq = @g",
                    ct, ("@r", e.Room), ("@g", e.Target));
                await cmds.ExecuteAsync(
                    "UPDATE messages SET text = '', mentions = NULL WHERE room_id = @r AND seq IN (SELECT seq FROM edits WHERE room_id = @r AND target = @g)",
                    ct, ("@r", e.Room), ("@g", e.Target));
                await cmds.ExecuteAsync("DELETE FROM reactions WHERE room_id = @r AND target = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await cmds.ExecuteAsync("DELETE FROM mentions WHERE room_id = @r AND seq = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await UnlinkFilesAsync(cmds, e.Room, e.Target, ct);
                break;
            case EventKind.Reaction when e.On:
                await cmds.ExecuteAsync("INSERT INTO reactions (room_id, target, emoji, user_id, seq) VALUES (@r, @g, @e, @u, @s)", ct,
                    ("@r", e.Room), ("@g", e.Target), ("@e", e.Emoji), ("@u", e.SenderId), ("@s", seq));
                break;
            case EventKind.Reaction:
                await cmds.ExecuteAsync("DELETE FROM reactions WHERE room_id = @r AND target = @g AND emoji = @e AND user_id = @u", ct,
                    ("@r", e.Room), ("@g", e.Target), ("@e", e.Emoji), ("@u", e.SenderId));
                break;
        }
    }

    private static async Task AddMentionsAsync(CommandCache cmds, NewEvent e, long messageSeq, CancellationToken ct)
    {
        foreach (var m in e.Mentions)
        {
            await cmds.ExecuteAsync("INSERT INTO mentions (user_id, room_id, seq) VALUES (@u, @r, @s) ON CONFLICT DO NOTHING", ct,
                ("@u", m.UserId), ("@r", e.Room), ("@s", messageSeq));
        }
    }

    /// <summary>
    /// After a deletion: copies the WAL into the database (whose pages now hold the blanked rows, freed space zeroed)
    /// and truncates the WAL to nothing, so no frame with the deleted text survives. Waits for readers (busy timeout).
    /// </summary>
    private async Task CheckpointAsync(SqliteConnection conn, CancellationToken ct)
    {
        try
        {
            var (busy, frames) = (await conn.ListAsync("PRAGMA wal_checkpoint(TRUNCATE)", r => (r.GetInt64(0), r.GetInt64(1)), ct)).Single();
            if (busy != 0)
            {
                Log.CheckpointBusy(_logger, frames);
            }
        }
        catch (SqliteException e)
        {
            // The batch is committed: its senders must hear so (a failure here would tell them to send again).
            Log.CheckpointFailed(_logger, e.Message);
        }
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var list = await conn.ListAsync(
            $"""
            SELECT {Rows.EventColumns("m.client_id")}
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
        await using var tx = await conn.BeginTransactionAsync(ct); // one snapshot for the messages and their reactions
        var list = await tx.ListAsync(
            $"""
            SELECT {Rows.MessageColumns("m.client_id")}
            FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = @r AND m.seq > @a AND m.seq < @b AND m.kind IS NULL
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
        return await FileRows.WithFilesAsync(conn, tx, roomId, Rows.WithReactions(list, reactions), ct);
    }

    public async Task<long?> MarkReadAsync(string roomId, long userId, long seq, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ScalarAsync(
            """
            UPDATE members SET read_seq = MIN(@s, (SELECT last_seq FROM rooms WHERE id = @r))
            WHERE room_id = @r AND user_id = @u AND read_seq < MIN(@s, (SELECT last_seq FROM rooms WHERE id = @r))
            RETURNING read_seq
            """,
            ct, ("@r", roomId), ("@u", userId), ("@s", seq)) as long?;
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }

        _writerGate.Dispose();
    }
}
