using System.Data;
using Microsoft.Data.Sqlite;

namespace Natter.Server.Storage.Sqlite;

/// <summary>The group commit: one transaction per batch of new events on the writer connection, seqs taken in it, the search index kept in it.</summary>
public sealed partial class SqliteChatStore
{
    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct)
    {
        await _writerGate.WaitAsync(ct);
        try
        {
            var conn = _writer ?? throw new InvalidOperationException("The store is not initialized.");
            _hot ??= new WriterStatements(conn);
            var (results, deleted) = await AppendInTransactionAsync(conn, _hot, batch, ct);
            if (deleted)
            {
                await CheckpointAsync(conn, ct);
            }

            return results;
        }
        catch
        {
            _searchWaiting = -1;    // the transaction rolled back: count again
            throw;
        }
        finally
        {
            _writerGate.Release();
        }
    }

    // A plain message (no reply, no mentions) is stored with v1's six columns: every other column stays NULL.
    // Run as a HotStatement: ?1 room, ?2 seq, ?3 sender, ?4 text, ?5 ts, ?6 client_id, ?7 search row.
    private const string InsertMessage = """
        INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        ON CONFLICT(room_id, sender_id, client_id) DO NOTHING
        """;

    private const string InsertEvent = """
        INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id, kind, mentions, reply_to, target, emoji, reaction_on, doc)
        VALUES (@r, @s, @u, @x, @t, @c, @k, @m, @p, @g, @e, @o, @d)
        ON CONFLICT(room_id, sender_id, client_id) DO NOTHING
        """;

    private async Task<(AppendResult[] Results, bool Deleted)> AppendInTransactionAsync(SqliteConnection conn, WriterStatements hot, IReadOnlyList<NewEvent> batch, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.Serializable, ct);

        // The hot path (plain messages) runs the writer's prepared statements (WriterStatements) with new values; what
        // other events need is prepared on first use in this commit.
        var readSeq = hot.ReadSeq;
        var insertMessage = hot.InsertMessage;
        var index = new SearchIndexWriter(hot);
        await using var more = new CommandCache(conn, tx);

        var lastSeq = new Dictionary<string, long>();
        var results = new AppendResult[batch.Count];
        var deleted = false;
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            if (!lastSeq.TryGetValue(e.Room, out var last))
            {
                last = readSeq.Bind(1, e.Room).Int64() ?? throw new InvalidOperationException($"Room {e.Room} is not in the store.");
                lastSeq[e.Room] = last;
            }

            if (last < 0)
            {
                results[i] = AppendResult.Of(AppendOutcome.RoomGone);
                continue;
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
            long? doc = e.Kind == EventKind.Message ? index.NextId() : null;
            int inserted;
            if (plain)
            {
                inserted = insertMessage.Bind(1, e.Room).Bind(2, seq).Bind(3, e.SenderId).Bind(4, e.Text).Bind(5, e.Ts).Bind(6, e.ClientId).Bind(7, doc).Run();
            }
            else
            {
                inserted = await more.Get(InsertEvent,
                    ("@r", e.Room), ("@s", seq), ("@u", e.SenderId), ("@x", e.Text), ("@t", e.Ts), ("@c", e.ClientId),
                    ("@k", e.Kind == EventKind.Message ? null : EventKinds.Name(e.Kind)),
                    ("@m", e.Mentions.Count == 0 ? null : Rows.JoinMentions(e.Mentions.Select(m => m.Username))),
                    ("@p", e.ReplyTo), ("@g", e.Kind == EventKind.Message ? null : e.Target), ("@e", e.Emoji),
                    ("@o", e.Kind == EventKind.Reaction ? (e.On ? 1 : 0) : null), ("@d", doc)).ExecuteNonQueryAsync(ct);
            }

            if (inserted == 0)
            {
                // Only a message without a reply gets here (the others looked their client_id up first): it was stored before.
                results[i] = new AppendResult(AppendOutcome.Duplicate, await FindByClientIdAsync(more, e, ct));
                continue;
            }

            lastSeq[e.Room] = seq;
            if (doc is { } id)
            {
                index.Add(id, e.Room, seq, e.SenderId, e.Text);
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

        var update = hot.UpdateSeq;
        foreach (var (room, seq) in lastSeq)
        {
            if (seq < 0)
            {
                continue;   // a deleted room
            }

            update.Bind(1, seq).Bind(2, room).Run();
        }

        var waiting = (_searchWaiting < 0 ? hot.CountSearchWaiting.Int64() ?? 0 : _searchWaiting + index.Added);
        var move = waiting > 0 && (waiting >= _searchIndexBatch || _clock.GetElapsedTime(_searchMovedAt) >= _searchIndexDelay);
        if (move)
        {
            MoveSearchWords(hot);
        }

        await tx.CommitAsync(ct);
        _searchWaiting = move ? 0 : waiting;
        if (move)
        {
            _searchMovedAt = _clock.GetTimestamp();
        }

        return (results, deleted);
    }

    /// <summary>
    /// The statements every commit runs, prepared once on the writer connection and kept while it is open: preparing
    /// them anew per commit cost about a tenth of a small commit's CPU (W1 commits a dozen messages every 5 ms).
    /// Each is reset after every run (HotStatement), so none holds a lock or a read between commits.
    /// </summary>
    private sealed class WriterStatements(SqliteConnection conn) : IDisposable
    {
        // A deleted room (its row stays as a marker) reads as -1: deleted after the event was checked, nothing is stored in it.
        public HotStatement ReadSeq { get; } = new(conn, "SELECT CASE WHEN deleted_at IS NULL THEN last_seq ELSE -1 END FROM rooms WHERE id = ?1");

        public HotStatement InsertMessage { get; } = new(conn, SqliteChatStore.InsertMessage);

        public HotStatement UpdateSeq { get; } = new(conn, "UPDATE rooms SET last_seq = ?1 WHERE id = ?2 AND last_seq <> ?1");

        public HotStatement InsertSearchDoc { get; } = new(conn, "INSERT INTO search_docs (id, room_id, seq, sender_id) VALUES (?1, ?2, ?3, ?4)");

        public HotStatement InsertSearchWaiting { get; } = new(conn, "INSERT INTO search_pending (id, words) VALUES (?1, ?2)");

        public HotStatement CountSearchWaiting { get; } = new(conn, "SELECT COUNT(*) FROM search_pending");

        // One statement for all waiting rows: FTS5 writes them as one segment at the commit.
        public HotStatement MoveSearchWaiting { get; } = new(conn, "INSERT INTO search_index (rowid, words) SELECT id, words FROM search_pending ORDER BY id");

        public HotStatement ClearSearchWaiting { get; } = new(conn, "DELETE FROM search_pending");

        public HotStatement LastSearchDoc { get; } = new(conn, "SELECT COALESCE(MAX(id), 0) FROM search_docs");

        public void Dispose()
        {
            ReadSeq.Dispose();
            InsertMessage.Dispose();
            UpdateSeq.Dispose();
            InsertSearchDoc.Dispose();
            InsertSearchWaiting.Dispose();
            CountSearchWaiting.Dispose();
            MoveSearchWaiting.Dispose();
            ClearSearchWaiting.Dispose();
            LastSearchDoc.Dispose();
        }
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
}
