using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MySqlConnector;

namespace Natter.ClusterTests;

/// <summary>
/// A MariaDB database written by the v1 server (Fixtures/natter-v1-mysql.sql, a dump of it; the JSON files beside it
/// are what that server answered) is migrated in place when a node starts on it, serves the same history, and its
/// room log carries on.
/// </summary>
public sealed class MySqlMigrationTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private ClusterConfig? _config;
    private TestServer? _node;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        if (_config is not null)
        {
            await _config.DropDatabaseAsync();
        }
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static JsonElement[] Json(string name) => JsonSerializer.Deserialize<JsonElement[]>(File.ReadAllText(Fixture(name)))!;

    private static async Task<JsonElement> CallAsync(HttpMethod method, Uri uri, string token, object? body = null, HttpStatusCode expect = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"{method} {uri}: expected {(int)expect}, got {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task A_v1_mariadb_database_is_migrated_in_place_and_serves_the_same_history_then_carries_on()
    {
        _config = ClusterConfig.Create();
        await using (var conn = new MySqlConnection(new MySqlConnectionStringBuilder(TestServices.MySql) { Database = "" }.ConnectionString))
        {
            await conn.OpenAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await using var create = new MySqlCommand($"CREATE DATABASE `{_config.Database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; USE `{_config.Database}`;", conn);
            await create.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await using var load = new MySqlCommand(await File.ReadAllTextAsync(Fixture("natter-v1-mysql.sql")), conn);
            await load.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _node = await TestServer.StartAsync(new ServerOptions { Name = "node0", Cluster = _config });
        var alice = (await TestUser.LoginAsync(_node.BaseUri, "alice", "password-alice")).Token;
        var bob = (await TestUser.LoginAsync(_node.BaseUri, "bob", "password-bob")).Token;

        foreach (var fixture in new[] { "history-room.json", "history-dm.json" })
        {
            var v1 = Json(fixture);
            var room = v1[0].GetProperty("room").GetString()!;
            var now = (await CallAsync(HttpMethod.Get, new Uri(_node.BaseUri, $"/api/rooms/{room}/messages"), alice)).EnumerateArray().ToArray();
            Assert.Equal(v1.Length, now.Length);
            foreach (var (before, after) in v1.Zip(now))
            {
                foreach (var field in new[] { "room", "seq", "from", "text", "ts", "client_id" })
                {
                    Assert.Equal(before.GetProperty(field).ToString(), after.GetProperty(field).ToString());
                }

                Assert.Equal(JsonValueKind.Null, after.GetProperty("edited_ts").ValueKind);
                Assert.False(after.GetProperty("deleted").GetBoolean());
                Assert.Empty(after.GetProperty("reactions").EnumerateArray());
                Assert.Empty(after.GetProperty("mentions").EnumerateArray());
            }
        }

        var rooms = (await CallAsync(HttpMethod.Get, new Uri(_node.BaseUri, "/api/rooms"), alice)).EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
        foreach (var before in Json("rooms-alice.json"))
        {
            var after = rooms[before.GetProperty("id").GetString()!];
            Assert.Equal((before.GetProperty("last_seq").GetInt64(), before.GetProperty("read_seq").GetInt64(), 0),
                (after.GetProperty("last_seq").GetInt64(), after.GetProperty("read_seq").GetInt64(), after.GetProperty("mention_count").GetInt32()));
        }

        // The log carries on: edits, reactions and deletions of v1 messages take the next seqs.
        var group = Json("history-room.json")[0].GetProperty("room").GetString()!;
        var message = (string path) => new Uri(_node.BaseUri, $"/api/rooms/{group}/messages{path}");
        Assert.Equal(6, (await CallAsync(HttpMethod.Patch, message("/1"), alice, new { text = "hello @bob, edited" })).GetProperty("seq").GetInt64());
        Assert.Equal(7, (await CallAsync(HttpMethod.Put, message("/2/reactions/%F0%9F%91%8D"), bob)).GetProperty("seq").GetInt64());
        Assert.Equal(8, (await CallAsync(HttpMethod.Delete, message("/4"), bob)).GetProperty("seq").GetInt64());
        var history = (await CallAsync(HttpMethod.Get, message(""), alice)).EnumerateArray().ToArray();
        Assert.Equal(("hello @bob, edited", "bob"), (history[0].GetProperty("text").GetString(), history[0].GetProperty("mentions")[0].GetString()));
        Assert.Equal("👍", history[1].GetProperty("reactions")[0].GetProperty("emoji").GetString());
        Assert.True(history[3].GetProperty("deleted").GetBoolean());

        await using var verify = new MySqlConnection(_config.MySql);
        await verify.OpenAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await using var versions = new MySqlCommand("SELECT GROUP_CONCAT(version ORDER BY version) FROM schema_migrations", verify);
        Assert.Equal(string.Join(',', Natter.Server.Storage.MySql.MySqlSchema.Migrations.Select(m => m.Version)), await versions.ExecuteScalarAsync() as string);
        Assert.Empty(_node.Errors.Lines);
    }
}
