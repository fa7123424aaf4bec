using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// Search on MySQL/MariaDB: a table of each message's distinct words (schema migration 3), kept by the group commit
/// in its own transaction. Words are normalised in C# (<see cref="SearchWords"/>), as SQLite's index gets them.
/// </summary>
public sealed partial class MySqlChatStore
{
    private const int BackfillChunk = 2_000;
    private const int PairsChunk = 10_000;

    /// <summary>Indexes the messages already stored when migration 3 runs. Re-runnable: a cut-short run goes on where it stopped.</summary>
    private async Task AfterMigrationAsync(MySqlConnection conn, int version, CancellationToken ct)
    {
        if (version == 10)
        {
            await ReindexPairsAsync(conn, ct);
            return;
        }

        if (version != 3)
        {
            return;
        }

        // Oldest first, so the ids (and so "newest first") follow the order the messages were sent.
        await conn.ExecuteAsync(
            """
            INSERT IGNORE INTO search_docs (room_id, seq, sender_id)
            SELECT room_id, seq, sender_id FROM messages WHERE kind = 'message' AND deleted = 0 ORDER BY ts, room_id, seq
            """, ct);
        var total = Convert.ToInt64(await conn.ScalarAsync("SELECT COUNT(*) FROM search_docs", ct), CultureInfo.InvariantCulture);
        long after = 0, done = 0, logged = 0;
        while (true)
        {
            var rows = await ReadSearchTextsAsync(conn, after, BackfillChunk, ct);
            if (rows.Count == 0)
            {
                break;
            }

            // One transaction per chunk, begun and committed by statement (InsertWordsAsync runs on the connection,
            // as in the group commit).
            await conn.ExecuteAsync("START TRANSACTION", ct);
            await InsertWordsAsync(conn, rows.Select(r => (r.Id, r.Text)), ignoreDuplicates: true, ct);
            await conn.ExecuteAsync("COMMIT", ct);

            after = rows[^1].Id;
            done += rows.Count;
            if (done - logged >= 50_000 || rows.Count < BackfillChunk)
            {
                Log.SearchBackfill(_logger, "mysql", done, total);
                logged = done;
            }
        }
    }

    /// <summary>A chunk of search rows after <paramref name="after"/>, oldest first, with their message's current text.</summary>
    private static Task<List<(long Id, string Text)>> ReadSearchTextsAsync(MySqlConnection conn, long after, int limit, CancellationToken ct) =>
        conn.ListAsync(
            """
            SELECT d.id, COALESCE(m.edited_text, m.text) FROM search_docs d JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq
            WHERE d.id > @a ORDER BY d.id LIMIT @n
            """,
            r => (Id: r.GetInt64(0), Text: r.GetString(1)), ct, ("@a", after), ("@n", limit));

    /// <summary>
    /// Migration 10: messages indexed before the pairs rule (a run of Chinese, Japanese or Korean characters one word)
    /// get the words <see cref="SearchWords"/> gives now. The search rows are read in chunks, oldest first, with
    /// their current text; only a row whose text has such a run of two or more characters is touched, in a
    /// transaction of its chunk that locks the candidates' message rows, reads them again (an edit or deletion on
    /// another node meanwhile is seen: a deleted message has no search row and stays out) and replaces their words.
    /// Each chunk is whole or not at all, and replacing words twice gives the same words: a run cut short is
    /// repeated from the start by the next node that starts.
    /// </summary>
    private async Task ReindexPairsAsync(MySqlConnection conn, CancellationToken ct)
    {
        var total = Convert.ToInt64(await conn.ScalarAsync("SELECT COUNT(*) FROM search_docs", ct), CultureInfo.InvariantCulture);
        long after = 0, done = 0, logged = 0, reindexed = 0;
        while (true)
        {
            var rows = await ReadSearchTextsAsync(conn, after, PairsChunk, ct);
            if (rows.Count == 0)
            {
                break;
            }

            var candidates = rows.Where(r => SearchWords.JoinedBeforePairs(r.Text) is not null).Select(r => r.Id).ToList();
            if (candidates.Count > 0)
            {
                reindexed += await ReindexAsync(conn, candidates, ct);
            }

            after = rows[^1].Id;
            done += rows.Count;
            if (done - logged >= 50_000 || rows.Count < PairsChunk)
            {
                Log.SearchPairsReindexed(_logger, "mysql", done, total, reindexed);
                logged = done;
            }
        }
    }

    /// <summary>Replaces the words of the given search rows by their messages' current words, in one transaction; how many were replaced.</summary>
    private static async Task<int> ReindexAsync(MySqlConnection conn, List<long> docs, CancellationToken ct)
    {
        var ids = string.Join(", ", docs.Select((_, i) => "@d" + i.ToString(CultureInfo.InvariantCulture)));
        var args = docs.Select((d, i) => ("@d" + i.ToString(CultureInfo.InvariantCulture), (object?)d)).ToArray();
        await conn.ExecuteAsync("START TRANSACTION", ct);
        try
        {
            var current = await conn.ListAsync(
                $"""
                SELECT d.id, COALESCE(m.edited_text, m.text) FROM search_docs d JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq
                WHERE d.id IN ({ids}) AND m.deleted = 0 FOR UPDATE
                """,
                r => (Id: r.GetInt64(0), Text: r.GetString(1)), ct, args);
            await conn.ExecuteAsync($"DELETE FROM message_words WHERE doc_id IN ({ids})", ct, args);
            await InsertWordsAsync(conn, current.Select(c => (c.Id, c.Text)), ignoreDuplicates: false, ct);
            await conn.ExecuteAsync("COMMIT", ct);
            return current.Count;
        }
        catch
        {
            await conn.ExecuteAsync("ROLLBACK", CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// The group commit's part in search for new messages, in its script (no round trip of its own): their
    /// search_docs rows, then their words (one JSON parameter), each joined to its doc's new id in the same statement (the ids are
    /// AUTO_INCREMENT, so the server alone knows them).
    /// </summary>
    private static async Task IndexNewMessagesAsync(MySqlScript script, IReadOnlyList<StoredEvent> fresh, CancellationToken ct)
    {
        foreach (var chunk in fresh.Where(e => e.Kind == EventKind.Message).Chunk(InsertChunk))
        {
            script.Text("INSERT INTO search_docs (room_id, seq, sender_id) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                script.Text(i == 0 ? "(" : ", (").Value(chunk[i].Room).Text(", ").Value(chunk[i].Seq).Text(", ").Value(chunk[i].SenderId).Text(")");
            }

            await script.EndAsync(ct);

            // The words as one JSON array of [word, room, seq], read by JSON_TABLE and joined to their docs' new ids:
            // one parameter and a statement the server parses once, where a row per word cost a SELECT each.
            var words = new ArrayBufferWriter<byte>(chunk.Length * 64);
            using (var json = new Utf8JsonWriter(words, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartArray();
                foreach (var m in chunk)
                {
                    foreach (var word in SearchWords.Of(m.Text).Select(w => SearchWords.Truncate(w, MySqlSchema.WordMax)).Distinct(StringComparer.Ordinal))
                    {
                        json.WriteStartArray();
                        json.WriteStringValue(word);
                        json.WriteStringValue(m.Room);
                        json.WriteNumberValue(m.Seq);
                        json.WriteEndArray();
                    }
                }

                json.WriteEndArray();
            }

            // STRAIGHT_JOIN: the JSON rows drive, each finding its doc by the unique (room_id, seq) key. The columns
            // carry the tables' character sets, so that lookup is an index lookup.
            script.Text(
                $"""
                INSERT INTO message_words (word, doc_id) SELECT w.word, d.id
                FROM JSON_TABLE(
                """).Value(Encoding.UTF8.GetString(words.WrittenSpan)).Text(
                $"""
                , '$[*]' COLUMNS (
                    word VARCHAR({MySqlSchema.WordMax}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]',
                    room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]',
                    seq BIGINT PATH '$[2]')) w
                STRAIGHT_JOIN search_docs d ON d.room_id = w.room_id AND d.seq = w.seq
                """);
            await script.EndAsync(ct);
        }
    }

    /// <summary>
    /// The group commit's part in search for edits and deletions, after the new messages are indexed, in batch order:
    /// an edit re-indexes its target, a deletion removes it (a message stored and changed in one batch ends as it
    /// would across batches).
    /// </summary>
    private static async Task IndexEffectsForSearchAsync(DbConnection db, IReadOnlyList<(NewEvent Event, long Seq)> effects, CancellationToken ct)
    {
        foreach (var (e, _) in effects)
        {
            switch (e.Kind)
            {
                case EventKind.Edit:
                    if (await db.ScalarAsync("SELECT id FROM search_docs WHERE room_id = @r AND seq = @g", ct, ("@r", e.Room), ("@g", e.Target)) is long id)
                    {
                        await db.ExecuteAsync("DELETE FROM message_words WHERE doc_id = @d", ct, ("@d", id));
                        await InsertWordsAsync(db, [(id, e.Text)], ignoreDuplicates: false, ct);
                    }

                    break;
                case EventKind.Delete:
                    // Its words go first (no foreign key cascades since migration 9), then its doc.
                    await db.ExecuteAsync(
                        """
                        DELETE w FROM search_docs d JOIN message_words w ON w.doc_id = d.id WHERE d.room_id = @r AND d.seq = @g;
                        DELETE FROM search_docs WHERE room_id = @r AND seq = @g
                        """, ct, ("@r", e.Room), ("@g", e.Target));
                    break;
            }
        }
    }

    private static async Task InsertWordsAsync(DbConnection db, IEnumerable<(long DocId, string Text)> docs, bool ignoreDuplicates, CancellationToken ct)
    {
        var rows = docs.SelectMany(d => SearchWords.Of(d.Text)
            .Select(w => SearchWords.Truncate(w, MySqlSchema.WordMax))
            .Distinct(StringComparer.Ordinal)
            .Select(w => (d.DocId, Word: w)));
        foreach (var chunk in rows.Chunk(500))
        {
            var sql = new StringBuilder(ignoreDuplicates ? "INSERT IGNORE INTO message_words (word, doc_id) VALUES " : "INSERT INTO message_words (word, doc_id) VALUES ");
            var args = new List<(string, object?)>(chunk.Length * 2);
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@w{i}, @d{i})");
                args.Add(("@w" + i, chunk[i].Word));
                args.Add(("@d" + i, chunk[i].DocId));
            }

            await db.ExecuteAsync(sql.ToString(), ct, [.. args]);
        }
    }

    public async Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken ct)
    {
        if (query.Words.Count == 0)
        {
            return new SearchPage([], null);
        }

        // One semi-join per word: the optimiser may drive from the rarest word's index range or from the newest
        // messages, whichever costs less. LIKE patterns are escaped (a word has only letters and digits anyway).
        var sql = new StringBuilder(
            """
            SELECT d.id, d.room_id, d.seq,
                   CASE WHEN r.kind = 'direct'
                        THEN (SELECT username FROM users WHERE id = CASE WHEN r.user_a = @u THEN r.user_b ELSE r.user_a END)
                        ELSE r.name END
            FROM search_docs d
            JOIN members m ON m.room_id = d.room_id AND m.user_id = @u
            JOIN rooms r ON r.id = d.room_id
            WHERE d.id < @before
            """);
        var args = new List<(string, object?)>
        {
            ("@u", query.UserId), ("@before", query.Before ?? long.MaxValue), ("@n", query.Limit + 1),
        };
        if (query.Room is not null)
        {
            sql.Append(" AND d.room_id = @room");
            args.Add(("@room", query.Room));
        }

        if (query.From is not null)
        {
            sql.Append(" AND d.sender_id = (SELECT id FROM users WHERE username = @from)");
            args.Add(("@from", query.From));
        }

        for (var i = 0; i < query.Words.Count; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND d.id IN (SELECT doc_id FROM message_words WHERE word LIKE @w{i} ESCAPE '!')");
            args.Add(("@w" + i, LikePrefix(SearchWords.Truncate(query.Words[i], MySqlSchema.WordMax))));
        }

        sql.Append(" ORDER BY d.id DESC LIMIT @n");
        await using var conn = await OpenAsync(ct);
        var hits = await conn.ListAsync(sql.ToString(), r => new SearchHit(r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetInt64(0)), ct, [.. args]);
        return hits.Count > query.Limit
            ? new SearchPage(hits[..query.Limit], hits[query.Limit - 1].Position)
            : new SearchPage(hits, null);
    }

    private static string LikePrefix(string word) =>
        word.Replace("!", "!!", StringComparison.Ordinal).Replace("%", "!%", StringComparison.Ordinal).Replace("_", "!_", StringComparison.Ordinal) + "%";
}
