using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Natter.Server.Storage.Sqlite;

/// <summary>Search on SQLite: FTS5 over the words of each message (schema migration 3).</summary>
public sealed partial class SqliteChatStore
{
    private const int BackfillChunk = 50_000;

    /// <summary>natter_words(text): the text's distinct search words joined by spaces, for the index triggers.</summary>
    private static void RegisterSearchFunctions(SqliteConnection conn) =>
        conn.CreateFunction<string?, string>("natter_words", SearchWords.Joined, isDeterministic: true);

    /// <summary>Steps of a migration that SQL alone cannot do well, with progress in the log: indexing existing messages, copying the room log.</summary>
    private async Task AfterMigrationAsync(DbTransaction tx, int version, CancellationToken ct)
    {
        if (version == 7)
        {
            await LinkSearchDocsAsync(tx, ct);
            return;
        }

        if (version == 9)
        {
            await CopyRoomLogAsync(tx, ct);
            return;
        }

        if (version == 10)
        {
            await ReindexPairsAsync(tx, ct);
            return;
        }

        if (version != 3)
        {
            return;
        }

        // Oldest first, so the ids (and so "newest first") follow the order the messages were sent.
        var docs = await tx.ExecuteAsync(
            """
            INSERT INTO search_docs (room_id, seq, sender_id)
            SELECT room_id, seq, sender_id FROM messages WHERE kind IS NULL AND COALESCE(deleted, 0) = 0 ORDER BY ts, room_id, seq
            """, ct);
        for (long done = 0; done < docs; done += BackfillChunk)
        {
            await tx.ExecuteAsync(
                """
                INSERT INTO search_index (rowid, words)
                SELECT d.id, natter_words(COALESCE(m.edited_text, m.text))
                FROM search_docs d JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq
                WHERE d.id > @a AND d.id <= @b
                """, ct, ("@a", done), ("@b", done + BackfillChunk));
            Log.SearchBackfill(_logger, "sqlite", Math.Min(done + BackfillChunk, docs), docs);
        }
    }

    /// <summary>Migration 7: each message row gets the id of its search_docs row, in chunks of ids, with progress in the log.</summary>
    private async Task LinkSearchDocsAsync(DbTransaction tx, CancellationToken ct)
    {
        var last = (long)(await tx.ScalarAsync("SELECT COALESCE(MAX(id), 0) FROM search_docs", ct))!;
        for (long done = 0; done < last; done += BackfillChunk)
        {
            await tx.ExecuteAsync(
                """
                UPDATE messages SET doc = d.id FROM search_docs d
                WHERE d.id > @a AND d.id <= @b AND messages.room_id = d.room_id AND messages.seq = d.seq
                """, ct, ("@a", done), ("@b", done + BackfillChunk));
            Log.SearchDocsLinked(_logger, Math.Min(done + BackfillChunk, last), last);
        }
    }

    /// <summary>
    /// Migration 10: messages indexed before the pairs rule (a run of Chinese, Japanese or Korean characters one word)
    /// get the words <see cref="SearchWords"/> gives now, in chunks of search rows with progress in the log. Only a
    /// row whose current text has such a run of two or more characters is touched; a deleted message has no search
    /// row and stays out. A contentless index removes a row's words only when given exactly the words it holds, so
    /// each candidate is first asked which words it was indexed by (an edit since the pairs rule already gave it the
    /// new ones). The migration's transaction holds it all: cut short, it starts again at the next start.
    /// </summary>
    private async Task ReindexPairsAsync(DbTransaction tx, CancellationToken ct)
    {
        var conn = (SqliteConnection)tx.Connection!;
        conn.CreateFunction<string?, string?>("natter_words_before_pairs", SearchWords.JoinedBeforePairs, isDeterministic: true);
        var last = (long)(await tx.ScalarAsync("SELECT COALESCE(MAX(id), 0) FROM search_docs", ct))!;
        long reindexed = 0;
        for (long done = 0; done < last; done += BackfillChunk)
        {
            var candidates = await tx.ListAsync(
                """
                SELECT id, before, text FROM (
                    SELECT d.id, natter_words_before_pairs(COALESCE(m.edited_text, m.text)) AS before, COALESCE(m.edited_text, m.text) AS text
                    FROM search_docs d JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq
                    WHERE d.id > @a AND d.id <= @b AND m.doc = d.id AND COALESCE(m.deleted, 0) = 0)
                WHERE before IS NOT NULL
                """,
                r => (Id: r.GetInt64(0), Before: r.GetString(1), Text: r.GetString(2)), ct, ("@a", done), ("@b", done + BackfillChunk));
            foreach (var (id, before, text) in candidates)
            {
                var now = SearchWords.Joined(text);
                if (await IndexedBeforePairsAsync(tx, id, before.Split(' '), now.Split(' '), ct))
                {
                    await tx.ExecuteAsync("INSERT INTO search_index (search_index, rowid, words) VALUES ('delete', @id, @w)", ct, ("@id", id), ("@w", before));
                    await tx.ExecuteAsync("INSERT INTO search_index (rowid, words) VALUES (@id, @w)", ct, ("@id", id), ("@w", now));
                    reindexed++;
                }
            }

            Log.SearchPairsReindexed(_logger, "sqlite", Math.Min(done + BackfillChunk, last), last, reindexed);
        }
    }

    /// <summary>
    /// Whether the index holds a row's words of before the pairs rule: it holds a word only those have, or lacks a
    /// word only the new ones have (a run of two characters was one word before and is a pair now, besides its last
    /// character alone).
    /// </summary>
    private static async Task<bool> IndexedBeforePairsAsync(DbTransaction tx, long id, string[] before, string[] now, CancellationToken ct)
    {
        var onlyBefore = before.Except(now, StringComparer.Ordinal).FirstOrDefault();
        var word = onlyBefore ?? now.Except(before, StringComparer.Ordinal).First();
        var holds = await tx.ScalarAsync("SELECT 1 FROM search_index WHERE search_index MATCH @q AND rowid = @id", ct,
            ("@q", "\"" + word.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""), ("@id", id)) is not null;
        return onlyBefore is null ? !holds : holds;
    }

    /// <summary>
    /// Migration 9: copies the room log into the new table room by room in seq order, in chunks, with progress in the
    /// log, then puts it in the old table's place (<see cref="SqliteSchema.MessagesSwap"/>). All of it runs in the
    /// migration's transaction: a failure leaves the database as it was.
    /// </summary>
    private async Task CopyRoomLogAsync(DbTransaction tx, CancellationToken ct)
    {
        var total = (long)(await tx.ScalarAsync("SELECT COUNT(*) FROM messages", ct))!;
        var (room, seq, done) = ("", long.MinValue, 0L);
        while (done < total)
        {
            var copied = await tx.ExecuteAsync(
                $"""
                INSERT INTO messages_v9 ({SqliteSchema.MessagesColumns})
                SELECT {SqliteSchema.MessagesColumns} FROM messages WHERE (room_id, seq) > (@r, @s) ORDER BY room_id, seq LIMIT @n
                """, ct, ("@r", room), ("@s", seq), ("@n", BackfillChunk));
            if (copied == 0)
            {
                break;
            }

            done += copied;
            (room, seq) = (await tx.ListAsync("SELECT room_id, seq FROM messages_v9 ORDER BY rowid DESC LIMIT 1", r => (r.GetString(0), r.GetInt64(1)), ct)).Single();
            Log.RoomLogCopied(_logger, done, total);
        }

        await tx.ExecuteAsync(SqliteSchema.MessagesSwap, ct);
    }

    /// <summary>
    /// A commit's search rows: each stored message gets its search_docs row and its words in search_pending, in the
    /// commit's transaction; <see cref="MoveSearchWords"/> later puts many commits' words into the index at once
    /// (migration 11). Run as statements of their own, the inserts open no statement savepoint (FTS5 writes what it
    /// holds as a new segment at every savepoint: from a trigger each message became a segment of its own).
    /// </summary>
    private sealed class SearchIndexWriter(WriterStatements hot)
    {
        private long _last = -1;

        /// <summary>How many messages this commit added.</summary>
        public int Added { get; private set; }

        /// <summary>The id the next message's search row gets (the messages row names it before the row exists): ids grow in the order messages are stored.</summary>
        public long NextId()
        {
            if (_last < 0)
            {
                _last = hot.LastSearchDoc.Int64() ?? 0;
            }

            return _last + 1;
        }

        /// <summary>Adds the stored message with the id <see cref="NextId"/> gave.</summary>
        public void Add(long id, string room, long seq, long senderId, string text)
        {
            hot.InsertSearchDoc.Bind(1, id).Bind(2, room).Bind(3, seq).Bind(4, senderId).Run();
            hot.InsertSearchWaiting.Bind(1, id).Bind(2, SearchWords.Joined(text)).Run();
            _last = id;
            Added++;
        }
    }

    /// <summary>Every waiting message's words into the full-text index, in the writer's open transaction (one FTS5 segment).</summary>
    private static void MoveSearchWords(WriterStatements hot)
    {
        hot.MoveSearchWaiting.Run();
        hot.ClearSearchWaiting.Run();
    }

    /// <summary>Before a search: the words still waiting join the index, so the search finds every stored message.</summary>
    private async Task MoveWaitingSearchWordsAsync(CancellationToken ct)
    {
        await _writerGate.WaitAsync(ct);
        try
        {
            if (_writer is not { } conn || _searchWaiting == 0)
            {
                return;
            }

            _hot ??= new WriterStatements(conn);
            await using var tx = await conn.BeginTransactionAsync(ct);
            MoveSearchWords(_hot);
            await tx.CommitAsync(ct);
            _searchWaiting = 0;
            _searchMovedAt = _clock.GetTimestamp();
        }
        catch (SqliteException e)
        {
            // A store that cannot write (a full disk, say) still answers searches from the index as it is.
            _searchWaiting = -1;
            Log.SearchWordsNotMoved(_logger, e.Message);
        }
        finally
        {
            _writerGate.Release();
        }
    }

    public async Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken ct)
    {
        if (query.Words.Count == 0)
        {
            return new SearchPage([], null);
        }

        // Each word a quoted string (no FTS5 syntax can get in), matched as a prefix; all of them must match.
        var match = string.Join(" AND ", query.Words.Select(w => "\"" + w.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"*"));
        var filters = (query.Room is null ? "" : " AND d.room_id = @room")
            + (query.From is null ? "" : " AND d.sender_id = (SELECT id FROM users WHERE username = @from)");

        await MoveWaitingSearchWordsAsync(ct);

        // CROSS JOIN keeps the full-text index as the outer loop: it yields rowids newest first, and the LIMIT stops it.
        await using var conn = await OpenAsync(ct);
        var hits = await conn.ListAsync(
            $"""
            SELECT d.id, d.room_id, d.seq,
                   CASE WHEN r.kind = 'direct'
                        THEN (SELECT username FROM users WHERE id = CASE WHEN r.user_a = @u THEN r.user_b ELSE r.user_a END)
                        ELSE r.name END
            FROM search_index s
            CROSS JOIN search_docs d ON d.id = s.rowid
            CROSS JOIN members m ON m.room_id = d.room_id AND m.user_id = @u
            CROSS JOIN rooms r ON r.id = d.room_id
            WHERE search_index MATCH @q AND s.rowid < @before{filters}
            ORDER BY s.rowid DESC LIMIT @n
            """,
            r => new SearchHit(r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetInt64(0)), ct,
            ("@u", query.UserId), ("@q", match), ("@before", query.Before ?? long.MaxValue), ("@n", query.Limit + 1),
            ("@room", query.Room), ("@from", query.From));
        return hits.Count > query.Limit
            ? new SearchPage(hits[..query.Limit], hits[query.Limit - 1].Position)
            : new SearchPage(hits, null);
    }
}
