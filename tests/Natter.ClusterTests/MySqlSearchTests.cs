using System.Net.Http.Json;
using System.Text.Json;
using MySqlConnector;

namespace Natter.ClusterTests;

/// <summary>
/// Search in cluster mode: a v1 MariaDB database (Fixtures/natter-v1-mysql.sql) is indexed when a node migrates it,
/// and a message sent, edited or deleted on one node is found (or not) by its current text on another.
/// </summary>
public sealed class MySqlSearchTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private readonly List<TestServer> _nodes = [];
    private ClusterConfig? _config;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        if (_config is not null)
        {
            await _config.DropDatabaseAsync();
        }
    }

    private static async Task<string[]> SearchAsync(TestServer node, string token, string q)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.BaseUri, "/api/search?q=" + Uri.EscapeDataString(q)));
        request.Headers.Authorization = new("Bearer", token);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return [.. body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("text").GetString()!)];
    }

    private static async Task CallAsync(HttpMethod method, Uri uri, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{method} {uri}: {(int)response.StatusCode}");
    }

    [Fact]
    public async Task A_migrated_v1_database_is_searchable_and_changes_on_one_node_are_searched_on_another()
    {
        _config = ClusterConfig.Create();
        await using (var conn = new MySqlConnection(new MySqlConnectionStringBuilder(TestServices.MySql) { Database = "" }.ConnectionString))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            await using var create = new MySqlCommand($"CREATE DATABASE `{_config.Database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; USE `{_config.Database}`;", conn);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            await using var load = new MySqlCommand(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "natter-v1-mysql.sql"), TestContext.Current.CancellationToken), conn);
            await load.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var a = await TestServer.StartAsync(new ServerOptions { Name = "node0", Cluster = _config });
        _nodes.Add(a);
        var b = await TestServer.StartAsync(new ServerOptions { Name = "node1", Cluster = _config });
        _nodes.Add(b);
        var alice = (await TestUser.LoginAsync(a.BaseUri, "alice", "password-alice")).Token;
        var bob = (await TestUser.LoginAsync(b.BaseUri, "bob", "password-bob")).Token;

        // What v1 stored is found, with its accents folded.
        Assert.Equal(["Ünïcödé and emoji 👨‍👩‍👧"], await SearchAsync(a, alice, "unicode EMOJI"));
        Assert.Equal(["thanks alice 😀"], await SearchAsync(b, bob, "thanks ali"));

        // Changed on node a, searched on node b: the edit by its new words only, the deletion not at all.
        var group = JsonSerializer.Deserialize<JsonElement[]>(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "history-room.json"), TestContext.Current.CancellationToken))![0]
            .GetProperty("room").GetString()!;
        await CallAsync(HttpMethod.Patch, new Uri(a.BaseUri, $"/api/rooms/{group}/messages/1"), alice, new { text = "greetings @bob, edited" });
        await CallAsync(HttpMethod.Delete, new Uri(a.BaseUri, $"/api/rooms/{group}/messages/4"), bob);
        await CallAsync(HttpMethod.Post, new Uri(a.BaseUri, $"/api/rooms/{group}/messages"), alice, new { text = "Ein Grüßchen aus Köln", client_id = "k1" });

        Assert.Equal(["greetings @bob, edited"], await SearchAsync(b, bob, "greet"));
        Assert.Empty(await SearchAsync(b, bob, "hello welcome"));
        Assert.Empty(await SearchAsync(b, bob, "unicode"));
        Assert.Equal(["Ein Grüßchen aus Köln"], await SearchAsync(b, bob, "koln grußchen"));

        // The deleted message's words went with it (no foreign key cascades since migration 9): no word is left
        // pointing at a doc that is gone, and the deleted message has no doc.
        await using var check = new MySqlConnection(_config.MySql);
        await check.OpenAsync(TestContext.Current.CancellationToken);
        await using var orphans = new MySqlCommand(
            "SELECT COUNT(*) FROM message_words w LEFT JOIN search_docs d ON d.id = w.doc_id WHERE d.id IS NULL", check);
        Assert.Equal(0L, Convert.ToInt64(await orphans.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture));
        await using var deleted = new MySqlCommand("SELECT COUNT(*) FROM search_docs WHERE room_id = @r AND seq = 4", check);
        deleted.Parameters.AddWithValue("@r", group);
        Assert.Equal(0L, Convert.ToInt64(await deleted.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Chinese_Japanese_and_Korean_messages_indexed_before_the_pairs_rule_are_found_by_a_word_inside_a_run_after_the_migration()
    {
        _config = ClusterConfig.Create();
        await using (var conn = new MySqlConnection(new MySqlConnectionStringBuilder(TestServices.MySql) { Database = "" }.ConnectionString))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            await using var create = new MySqlCommand($"CREATE DATABASE `{_config.Database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; USE `{_config.Database}`;", conn);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            await using var load = new MySqlCommand(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "natter-v1-mysql.sql"), TestContext.Current.CancellationToken), conn);
            await load.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var node = await TestServer.StartAsync(new ServerOptions { Name = "node0", Cluster = _config });
        _nodes.Add(node);
        var alice = (await TestUser.LoginAsync(node.BaseUri, "alice", "password-alice")).Token;
        var bob = (await TestUser.LoginAsync(node.BaseUri, "bob", "password-bob")).Token;
        var group = JsonSerializer.Deserialize<JsonElement[]>(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "history-room.json"), TestContext.Current.CancellationToken))![0]
            .GetProperty("room").GetString()!;
        var messages = new Uri(node.BaseUri, $"/api/rooms/{group}/messages");
        await CallAsync(HttpMethod.Post, messages, bob, new { text = "東京都に住んでいます", client_id = "c1" });        // 6
        await CallAsync(HttpMethod.Post, messages, bob, new { text = "会議", client_id = "c2" });                       // 7
        await CallAsync(HttpMethod.Patch, new Uri(messages + "/7"), bob, new { text = "明日の会議室です" });             // 8
        await CallAsync(HttpMethod.Post, messages, bob, new { text = "회의실에서 만나요", client_id = "c3" });           // 9
        await CallAsync(HttpMethod.Post, messages, bob, new { text = "秘密の計画書", client_id = "c4" });               // 10
        await CallAsync(HttpMethod.Delete, new Uri(messages + "/10"), bob);                                             // 11
        await node.StopAsync();

        // The database as a node before the pairs rule left it: each message indexed by its old words (a run one
        // word), and the migration that re-indexes not run yet.
        await using (var conn = new MySqlConnection(_config.MySql))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken);
            var rows = new List<(long Id, string Text)>();
            await using (var read = new MySqlCommand(
                "SELECT d.id, COALESCE(m.edited_text, m.text) FROM search_docs d JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq", conn))
            await using (var r = await read.ExecuteReaderAsync(TestContext.Current.CancellationToken))
            {
                while (await r.ReadAsync(TestContext.Current.CancellationToken))
                {
                    rows.Add((r.GetInt64(0), r.GetString(1)));
                }
            }

            foreach (var (id, text) in rows)
            {
                await using var delete = new MySqlCommand("DELETE FROM message_words WHERE doc_id = @d", conn);
                delete.Parameters.AddWithValue("@d", id);
                await delete.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
                foreach (var word in SearchWordsBeforePairs.Joined(text).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    await using var insert = new MySqlCommand("INSERT INTO message_words (word, doc_id) VALUES (@w, @d)", conn);
                    insert.Parameters.AddWithValue("@w", word);
                    insert.Parameters.AddWithValue("@d", id);
                    await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
                }
            }

            // And what a room deletion left in the index before it removed the room's search rows itself.
            await using var leftover = new MySqlCommand(
                "INSERT INTO search_docs (room_id, seq, sender_id) VALUES ('gone', 1, 1); INSERT INTO message_words (word, doc_id) VALUES ('leftover', LAST_INSERT_ID())", conn);
            await leftover.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);

            await using var unapply = new MySqlCommand("DELETE FROM schema_migrations WHERE version = 10", conn);
            await unapply.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await node.RestartAsync();

        // A word inside a run finds the message, an edited one by its current text, a Korean one by an inner pair of
        // syllables; a deleted one stays out; the start of a run and the other messages are found as before, once each.
        Assert.Equal(["東京都に住んでいます"], await SearchAsync(node, alice, "住ん"));
        Assert.Equal(["東京都に住んでいます"], await SearchAsync(node, alice, "東京"));
        Assert.Equal(["明日の会議室です"], await SearchAsync(node, alice, "議室"));
        Assert.Empty(await SearchAsync(node, alice, "会議です"));
        Assert.Equal(["회의실에서 만나요"], await SearchAsync(node, alice, "의실"));
        Assert.Empty(await SearchAsync(node, alice, "計画"));
        Assert.Equal(["thanks alice 😀"], await SearchAsync(node, bob, "thanks ali"));

        // No word is left of the old ones, and none points at a doc that is gone.
        await using var check = new MySqlConnection(_config.MySql);
        await check.OpenAsync(TestContext.Current.CancellationToken);
        await using var old = new MySqlCommand(
            """
            SELECT (SELECT COUNT(*) FROM message_words WHERE word IN ('東京都に住んています', '明日の会議室てす', 'leftover') OR doc_id NOT IN (SELECT id FROM search_docs))
                 + (SELECT COUNT(*) FROM search_docs WHERE room_id = 'gone')
            """, check);
        Assert.Equal(0L, Convert.ToInt64(await old.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Deleting_a_room_takes_its_messages_words_out_of_the_index()
    {
        _config = ClusterConfig.Create();
        var node = await TestServer.StartAsync(new ServerOptions { Name = "node0", Cluster = _config });
        _nodes.Add(node);
        var alice = await TestUser.RegisterAsync(node.BaseUri, "alice");
        using var http = alice.Http();
        using var created = await http.PostAsJsonAsync("/api/rooms", new { name = "doomed" }, TestContext.Current.CancellationToken);
        var room = (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        await CallAsync(HttpMethod.Post, new Uri(node.BaseUri, $"/api/rooms/{room}/messages"), alice.Token, new { text = "zanzibar quokka", client_id = "z1" });
        Assert.Equal(["zanzibar quokka"], await SearchAsync(node, alice.Token, "quokka"));
        await CallAsync(HttpMethod.Delete, new Uri(node.BaseUri, $"/api/rooms/{room}"), alice.Token);

        await using var check = new MySqlConnection(_config.MySql);
        await check.OpenAsync(TestContext.Current.CancellationToken);
        await using var left = new MySqlCommand(
            "SELECT (SELECT COUNT(*) FROM search_docs WHERE room_id = @r) + (SELECT COUNT(*) FROM message_words WHERE word IN ('zanzibar', 'quokka'))", check);
        left.Parameters.AddWithValue("@r", room);
        Assert.Equal(0L, Convert.ToInt64(await left.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture));
    }
}
