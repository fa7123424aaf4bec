using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Natter.Server.Storage;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// A database written by the v1 server (Fixtures/natter-v1.db: alice and bob in "Général ☕", a direct room of alice
/// and carol; the JSON files beside it are what that server answered) is migrated in place at start and serves the
/// same history, and the room log carries on from it.
/// </summary>
public sealed class MigrationTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static JsonElement[] Json(string name) => JsonSerializer.Deserialize<JsonElement[]>(File.ReadAllText(Fixture(name)))!;

    private static async Task<TestUser> LoginAsync(TestServer server, string username) =>
        (await TestUser.LoginAsync(server.BaseUri, username, "password-" + username)).At(server);

    /// <summary>A server on a copy of the v1 database, in a folder of its own (deleted with <see cref="Folder"/>).</summary>
    private static async Task<TestServer> StartOnFixtureAsync()
    {
        var folder = Directory.CreateTempSubdirectory("natter-test-").FullName;
        File.Copy(Fixture("natter-v1.db"), Path.Combine(folder, ServerOptions.DatabaseFile));
        return await TestServer.StartAsync(new ServerOptions { Folder = folder });
    }

    /// <summary>Deletes a fixture server's folder once it has stopped.</summary>
    private sealed class Folder(string path) : IDisposable
    {
        public void Dispose()
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind is harmless.
            }
        }
    }

    [Fact]
    public async Task A_v1_database_is_migrated_in_place_and_serves_the_same_history_and_rooms()
    {
        var server = await StartOnFixtureAsync();
        using var folder = new Folder(server.Folder!);
        await using var _ = server;
        var alice = await LoginAsync(server, "alice");

        foreach (var fixture in new[] { "history-room.json", "history-dm.json" })
        {
            var v1 = Json(fixture);
            var room = v1[0].GetProperty("room").GetString()!;
            var now = await alice.HistoryAsync(room);
            Assert.Equal(v1.Length, now.Length);
            foreach (var (before, after) in v1.Zip(now))
            {
                foreach (var field in new[] { "room", "seq", "from", "text", "ts", "client_id" })
                {
                    Assert.Equal(before.GetProperty(field).ToString(), after.GetProperty(field).ToString());
                }

                // What v2 adds, as a message that was never replied to, edited, deleted or reacted to has it.
                Assert.Equal(JsonValueKind.Null, after.GetProperty("reply_to").ValueKind);
                Assert.Empty(after.GetProperty("mentions").EnumerateArray());
                Assert.Empty(after.GetProperty("files").EnumerateArray());
                Assert.Equal(JsonValueKind.Null, after.GetProperty("edited_ts").ValueKind);
                Assert.False(after.GetProperty("deleted").GetBoolean());
                Assert.Empty(after.GetProperty("reactions").EnumerateArray());
            }
        }

        var rooms = await alice.RoomsAsync();
        foreach (var before in Json("rooms-alice.json"))
        {
            var after = rooms[before.GetProperty("id").GetString()!];
            foreach (var field in new[] { "name", "kind", "last_seq", "read_seq" })
            {
                Assert.Equal(before.GetProperty(field).ToString(), after.GetProperty(field).ToString());
            }

            Assert.Equal(0, after.GetProperty("mention_count").GetInt32());
        }

        // A client that syncs from 0 gets the old messages as message frames.
        var socket = new EventSocket(await alice.ConnectAsync());
        await socket.Socket.NextAsync("welcome");
        var group = Json("history-room.json")[0].GetProperty("room").GetString()!;
        await socket.Socket.SendAsync(new { type = "sync", rooms = new Dictionary<string, long> { [group] = 0 }, @ref = "s" });
        var replayed = await socket.UntilAsync("synced");
        Assert.Equal([1, 2, 3, 4, 5], replayed.Where(f => f.GetProperty("type").GetString() == "message").Select(f => f.GetProperty("seq").GetInt64()));

        await using var conn = new SqliteConnection($"Data Source={server.DbPath};Mode=ReadOnly;Pooling=False");
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT version FROM schema_migrations ORDER BY version";
        var versions = new List<long>();
        await using (var r = await cmd.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await r.ReadAsync(TestContext.Current.CancellationToken))
            {
                versions.Add(r.GetInt64(0));
            }
        }

        // Every migration ran once, in order: the v1 database is now at the current version.
        Assert.Equal(Natter.Server.Storage.Sqlite.SqliteSchema.Migrations.Select(m => (long)m.Version), versions);
    }

    [Fact]
    public async Task Messages_of_a_migrated_database_can_be_edited_reacted_to_and_deleted_and_the_seqs_carry_on()
    {
        var server = await StartOnFixtureAsync();
        using var folder = new Folder(server.Folder!);
        await using var _ = server;
        var alice = await LoginAsync(server, "alice");
        var bob = await LoginAsync(server, "bob");
        var room = Json("history-room.json")[0].GetProperty("room").GetString()!;

        Assert.Equal(6, (await (await alice.EditAsync(room, 1, new { text = "hello @bob, welcome (edited)" })).JsonAsync()).GetProperty("seq").GetInt64());
        Assert.Equal(7, (await (await bob.ReactAsync(room, 1, "👋", on: true)).JsonAsync()).GetProperty("seq").GetInt64());
        Assert.Equal(8, (await (await bob.DeleteMessageAsync(room, 2)).JsonAsync()).GetProperty("seq").GetInt64());
        await Problem.AssertAsync(await bob.EditAsync(room, 1, new { text = "not bob's" }), HttpStatusCode.Forbidden);
        var sent = await (await bob.SendAsync(room, new { text = "hi again @alice", reply_to = 1 })).JsonAsync(HttpStatusCode.Created);
        Assert.Equal((9L, 1L), (sent.GetProperty("seq").GetInt64(), sent.GetProperty("reply_to").GetInt64()));

        var first = await alice.MessageAsync(room, 1);
        Assert.Equal("hello @bob, welcome (edited)", first.GetProperty("text").GetString());
        Assert.Equal(["bob"], first.GetProperty("mentions").Strings());
        Assert.Equal("👋", first.GetProperty("reactions")[0].GetProperty("emoji").GetString());
        Assert.True((await alice.MessageAsync(room, 2)).GetProperty("deleted").GetBoolean());
        Assert.Equal(1, (await alice.RoomsAsync())[room].GetProperty("mention_count").GetInt32());
    }

    [Fact]
    public async Task Search_finds_the_messages_of_a_migrated_database_and_follows_their_edits_and_deletions()
    {
        var server = await StartOnFixtureAsync();
        using var folder = new Folder(server.Folder!);
        await using var _ = server;
        var alice = await LoginAsync(server, "alice");
        var bob = await LoginAsync(server, "bob");
        var room = Json("history-room.json")[0].GetProperty("room").GetString()!;

        // Indexed by the migrations (3 builds the index, 7 links each row to it), found as any message is.
        Assert.Equal(["hello @bob, welcome"], await SearchTextsAsync(alice, "welc"));
        Assert.Equal(["thanks alice 😀"], await SearchTextsAsync(bob, "thanks"));
        Assert.Equal(["Ünïcödé and emoji 👨‍👩‍👧"], await SearchTextsAsync(alice, "unicode"));

        // An old message edited and one deleted: the index follows, and a new message is found beside the old ones.
        await (await alice.EditAsync(room, 1, new { text = "goodbye @bob" })).JsonAsync();
        await (await bob.DeleteMessageAsync(room, 2)).JsonAsync();
        await (await bob.SendAsync(room, new { text = "welcome back" })).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(["welcome back"], await SearchTextsAsync(alice, "welc"));
        Assert.Equal(["goodbye @bob"], await SearchTextsAsync(alice, "goodbye"));
        Assert.Empty(await SearchTextsAsync(bob, "thanks"));
    }

    [Fact]
    public async Task Chinese_and_Japanese_messages_indexed_before_the_pairs_rule_are_found_by_a_word_inside_a_run_after_the_migration()
    {
        var server = await StartOnFixtureAsync();
        using var folder = new Folder(server.Folder!);
        await using var _ = server;
        var alice = await LoginAsync(server, "alice");
        var bob = await LoginAsync(server, "bob");
        var room = Json("history-room.json")[0].GetProperty("room").GetString()!;
        await (await bob.SendAsync(room, new { text = "東京都に住んでいます" })).JsonAsync(HttpStatusCode.Created);    // 6
        await (await bob.SendAsync(room, new { text = "会議" })).JsonAsync(HttpStatusCode.Created);                    // 7
        await (await bob.EditAsync(room, 7, new { text = "明日の会議室です" })).JsonAsync();                             // 8
        await (await bob.SendAsync(room, new { text = "秘密の計画書" })).JsonAsync(HttpStatusCode.Created);              // 9
        await (await bob.DeleteMessageAsync(room, 9)).JsonAsync();                                                      // 10
        await server.StopAsync();

        // The database as a server before the pairs rule left it: each message indexed by its old words (a run one
        // word), and the migration that re-indexes not run yet.
        await using (var conn = new SqliteConnection($"Data Source={server.DbPath};Pooling=False"))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken);
            await using (var before11 = conn.CreateCommand())
            {
                before11.CommandText = SqliteBeforeSearchWaiting.Sql;
                await before11.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }

            var rows = new List<(long Id, string Text)>();
            await using (var read = conn.CreateCommand())
            {
                read.CommandText = "SELECT d.id, COALESCE(m.edited_text, m.text) FROM search_docs d JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq";
                await using var r = await read.ExecuteReaderAsync(TestContext.Current.CancellationToken);
                while (await r.ReadAsync(TestContext.Current.CancellationToken))
                {
                    rows.Add((r.GetInt64(0), r.GetString(1)));
                }
            }

            foreach (var (id, text) in rows.Where(r => SearchWordsBeforePairs.Joined(r.Text) != SearchWords.Joined(r.Text)))
            {
                await using var write = conn.CreateCommand();
                write.CommandText = """
                    INSERT INTO search_index (search_index, rowid, words) VALUES ('delete', $id, $now);
                    INSERT INTO search_index (rowid, words) VALUES ($id, $before);
                    """;
                write.Parameters.AddWithValue("$id", id);
                write.Parameters.AddWithValue("$now", SearchWords.Joined(text));
                write.Parameters.AddWithValue("$before", SearchWordsBeforePairs.Joined(text));
                await write.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }

            await using var unapply = conn.CreateCommand();
            unapply.CommandText = "DELETE FROM schema_migrations WHERE version = 10";
            await unapply.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await server.RestartAsync();

        // A word inside a run finds the message, an edited one by its current text; a deleted one stays out; the
        // start of a run and the other messages are found as before, once each.
        Assert.Equal(["東京都に住んでいます"], await SearchTextsAsync(alice, "住ん"));
        Assert.Equal(["東京都に住んでいます"], await SearchTextsAsync(alice, "京都"));
        Assert.Equal(["東京都に住んでいます"], await SearchTextsAsync(alice, "東京"));
        Assert.Equal(["明日の会議室です"], await SearchTextsAsync(alice, "議室"));
        Assert.Empty(await SearchTextsAsync(alice, "計画"));
        Assert.Empty(await SearchTextsAsync(alice, "秘密"));
        Assert.Equal(["hello @bob, welcome"], await SearchTextsAsync(alice, "welc"));

        // Edited again and deleted after the migration: the index gives up exactly the words it holds.
        await (await bob.EditAsync(room, 6, new { text = "大阪に住んでいます" })).JsonAsync();
        Assert.Empty(await SearchTextsAsync(alice, "京都"));
        Assert.Equal(["大阪に住んでいます"], await SearchTextsAsync(alice, "住ん"));
        await (await bob.DeleteMessageAsync(room, 7)).JsonAsync();
        Assert.Empty(await SearchTextsAsync(alice, "議室"));
    }

    private static async Task<string[]> SearchTextsAsync(TestUser user, string q)
    {
        using var http = user.Http();
        using var response = await http.GetAsync("/api/search?q=" + Uri.EscapeDataString(q), TestContext.Current.CancellationToken);
        var page = await response.JsonAsync();
        return [.. page.GetProperty("results").EnumerateArray().Select(m => m.GetProperty("text").GetString()!)];
    }
}
