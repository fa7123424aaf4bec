using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
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

    private static async Task<string[]> SearchTextsAsync(TestUser user, string q)
    {
        using var http = user.Http();
        using var response = await http.GetAsync("/api/search?q=" + Uri.EscapeDataString(q), TestContext.Current.CancellationToken);
        var page = await response.JsonAsync();
        return [.. page.GetProperty("results").EnumerateArray().Select(m => m.GetProperty("text").GetString()!)];
    }
}
