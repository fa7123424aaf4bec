using System.Text.Json;
using Microsoft.Data.Sqlite;
using Natter.Server.Storage;
using Natter.TestSupport.Specs;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// Schema migration 9 copies the room log into a table appended in commit order (a rowid table with a unique index on
/// (room_id, seq)). A database of version 8 (the room log keyed by (room_id, seq)) keeps every event after it: the same
/// history and log reads, the same edits, deletions and reactions, the same dedupe answers and search results, and its
/// rooms' seqs carry on. The copy goes in chunks of 50,000 rows; two rooms of 60,000 make a chunk end inside a room.
/// </summary>
public sealed class SqliteRoomLogMigrationTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly SqliteStoreFile _file = new("roomlog");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _file.DisposeAsync();

    private Task<IChatStore> ReopenAsync() => _file.ReopenAsync();

    private static NewEvent Msg(long sender, string from, string room, string text, long ts) =>
        NewEvent.Message(room, sender, from, text, Guid.CreateVersion7().ToString("N"), ts);

    private static async Task ExecuteAsync(string path, string sql)
    {
        SqliteConnection.ClearAllPools();
        await using var conn = new SqliteConnection($"Data Source={path};Pooling=False");
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> QueryAsync(string path, string sql)
    {
        await using var conn = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        var rows = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            rows.Add(string.Join("|", Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "NULL" : r.GetValue(i).ToString())));
        }

        return rows;
    }

    private static async Task<string> SnapshotAsync(IChatStore store, long reader, params string[] rooms)
    {
        var parts = new List<object>();
        foreach (var room in rooms)
        {
            parts.Add(await store.ReadEventsAsync(room, 0, long.MaxValue, 1000, true, default));
            parts.Add(await store.ReadEventsAsync(room, 2, 6, 2, false, default));
            parts.Add(await store.ReadMessagesAsync(room, 0, long.MaxValue, 1000, true, default));
            parts.Add(await store.ReadMessagesAsync(room, 0, 5, 2, false, default));
            parts.Add(await store.GetLastSeqAsync(room, default));
        }

        foreach (var word in new[] { "apple", "pear", "plum", "edited" })
        {
            parts.Add((await store.SearchAsync(new SearchQuery(reader, SearchWords.Query(word), null, null, null, 50), default)).Hits);
        }

        return JsonSerializer.Serialize(parts);
    }

    [Fact]
    public async Task A_version_8_database_keeps_its_history_edits_reactions_dedupe_answers_and_search_and_its_seqs_carry_on()
    {
        var store = await ReopenAsync();
        var alice = (await store.CreateUserAsync("alice", "x", default))!.Value;
        var bob = (await store.CreateUserAsync("bob", "x", default))!.Value;
        var r1 = (await store.CreateRoomAsync("one", alice, default)).Id;
        var r2 = (await store.CreateRoomAsync("two", alice, default)).Id;
        var bulk1 = (await store.CreateRoomAsync("bulk one", alice, default)).Id;
        var bulk2 = (await store.CreateRoomAsync("bulk two", alice, default)).Id;
        await store.JoinAsync(r1, bob, default);
        await store.JoinAsync(r2, bob, default);

        // Interleaved rooms, a reply with a mention, an edit, a reaction and a deletion.
        var sent = new List<NewEvent>();
        for (var i = 0; i < 12; i++)
        {
            var (who, name) = i % 2 == 0 ? (alice, "alice") : (bob, "bob");
            sent.Add(Msg(who, name, i % 3 == 0 ? r2 : r1, $"m{i} {(i % 2 == 0 ? "apple" : "pear")} plum", 1_000 + i));
        }

        var stored = await store.AppendAsync(sent, default).WaitAsync(Timeout);
        Assert.All(stored, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        var changes = await store.AppendAsync(
            [
                new NewEvent(r1, bob, "bob", EventKind.Message, "reply", 2_000) { Text = "a reply @alice", ReplyTo = 1, Mentions = [new Mention(alice, "alice")] },
                new NewEvent(r1, bob, "bob", EventKind.Edit, "edit", 2_001) { Text = "m1 edited apple", Target = 1 },
                new NewEvent(r1, alice, "alice", EventKind.Reaction, "react", 2_002) { Target = 1, Emoji = "👍", On = true },
                new NewEvent(r1, bob, "bob", EventKind.Delete, "delete", 2_003) { Target = 4 },
            ], default).WaitAsync(Timeout);
        Assert.All(changes, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        var before = await SnapshotAsync(store, alice, r1, r2);
        await _file.CloseAsync();

        // Back to version 8: the room log keyed by (room_id, seq), its dedupe index and triggers, migration 9 not applied.
        // Two bulk rooms of 60,000 messages each (not searchable) are added straight into that table.
        await ExecuteAsync(_file.Path, SqliteBeforeSearchWaiting.Sql);
        await ExecuteAsync(_file.Path, $"""
            CREATE TABLE messages_v8 (
                room_id TEXT NOT NULL, seq INTEGER NOT NULL, sender_id INTEGER NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL,
                client_id TEXT NOT NULL, kind TEXT NULL, target INTEGER NULL, reply_to INTEGER NULL, mentions TEXT NULL, emoji TEXT NULL,
                reaction_on INTEGER NULL, deleted INTEGER NULL, edited_ts INTEGER NULL, edited_text TEXT NULL, edited_mentions TEXT NULL,
                doc INTEGER NULL, PRIMARY KEY (room_id, seq)) WITHOUT ROWID;
            INSERT INTO messages_v8 SELECT {Natter.Server.Storage.Sqlite.SqliteSchema.MessagesColumns} FROM messages;
            DROP TABLE messages;
            ALTER TABLE messages_v8 RENAME TO messages;
            CREATE UNIQUE INDEX messages_by_client_id ON messages(client_id, room_id, sender_id);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
            INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id) SELECT '{bulk1}', i, {alice}, 'b' || i, 5000 + i, 'b1-' || i FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
            INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id) SELECT '{bulk2}', i, {alice}, 'c' || i, 5000 + i, 'b2-' || i FROM n;
            UPDATE rooms SET last_seq = 60000 WHERE id IN ('{bulk1}', '{bulk2}');
            DELETE FROM schema_migrations WHERE version >= 9;
            """);
        Assert.Contains(await QueryAsync(_file.Path, "SELECT sql FROM sqlite_master WHERE name = 'messages'"), s => s.Contains("WITHOUT ROWID", StringComparison.Ordinal));

        store = await ReopenAsync();
        Assert.Equal(before, await SnapshotAsync(store, alice, r1, r2));

        // The new shape: a rowid table, the (room_id, seq) index, every row copied once, each message not deleted still
        // linked to its search row.
        var sql = await QueryAsync(_file.Path, "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'messages' ORDER BY name");
        Assert.Equal(["messages", "messages_by_client_id", "messages_by_seq", "search_message_changed", "search_message_removed"], sql.Select(s => s.Split('|')[0]));
        Assert.DoesNotContain("WITHOUT ROWID", sql[0], StringComparison.Ordinal);
        Assert.Equal(["ok"], await QueryAsync(_file.Path, "PRAGMA integrity_check"));
        Assert.Equal(["1|60000|60000|60000", "1|60000|60000|60000"], await QueryAsync(_file.Path,
            $"SELECT MIN(seq), MAX(seq), COUNT(*), COUNT(DISTINCT seq) FROM messages WHERE room_id IN ('{bulk1}', '{bulk2}') GROUP BY room_id"));
        Assert.Equal(["0"], await QueryAsync(_file.Path,
            "SELECT COUNT(*) FROM messages m WHERE m.doc IS NOT NULL AND m.deleted IS NULL AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.id = m.doc AND d.room_id = m.room_id AND d.seq = m.seq)"));
        Assert.Equal(["b50001", "c1"], (await store.ReadEventsAsync(bulk1, 50_000, long.MaxValue, 1, true, default))
            .Concat(await store.ReadEventsAsync(bulk2, 0, long.MaxValue, 1, true, default)).Select(e => e.Text));

        // Repeats of old messages are answered with the first one; new events take the next seqs, in every room.
        var again = await store.AppendAsync(
            [
                sent[0] with { Text = "resent" },
                sent[1] with { Text = "resent" },
                NewEvent.Message(bulk1, alice, "alice", "resent", "b1-7", 9_000),
                Msg(alice, "alice", r1, "new apple", 3_000),
                Msg(alice, "alice", bulk2, "new in bulk", 3_001),
                new NewEvent(r1, alice, "alice", EventKind.Edit, "edit2", 3_002) { Text = "m2 edited again", Target = 2 },
            ], default).WaitAsync(Timeout);
        Assert.Equal(
            [(AppendOutcome.Duplicate, sent[0].Room, stored[0].Event!.Seq, sent[0].Text), (AppendOutcome.Duplicate, r1, 1L, sent[1].Text),
             (AppendOutcome.Duplicate, bulk1, 7L, "b7"), (AppendOutcome.Stored, r1, 13L, "new apple"),
             (AppendOutcome.Stored, bulk2, 60_001L, "new in bulk"), (AppendOutcome.Stored, r1, 14L, "m2 edited again")],
            again.Select(r => (r.Outcome, r.Event!.Room, r.Event.Seq, r.Event.Text)));

        // The edit reached the search index through the recreated trigger; the new message is found beside the old ones.
        var apples = await store.SearchAsync(new SearchQuery(alice, SearchWords.Query("apple"), null, null, null, 50), default);
        Assert.Equal([(r1, 13L), (r1, 7L), (r1, 6L), (r2, 3L), (r1, 3L), (r1, 1L), (r2, 1L)], apples.Hits.Select(h => (h.Room, h.Seq)));
        Assert.Equal([(r1, 2L)], (await store.SearchAsync(new SearchQuery(alice, SearchWords.Query("again"), null, null, null, 50), default)).Hits.Select(h => (h.Room, h.Seq)));
    }
}
