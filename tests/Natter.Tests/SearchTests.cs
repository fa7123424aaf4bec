using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// GET /api/search (protocol v2 §2) on the real server: the answer's shape, paging by cursor, the 400/403/404 rules,
/// and the index following what the group commit stores (sends, edits, deletions, leaving a room).
/// </summary>
public sealed class SearchTests
{
    private static async Task<HttpResponseMessage> GetAsync(TestUser user, string query)
    {
        using var http = user.Http();
        return await http.GetAsync("/api/search?" + query, TestContext.Current.CancellationToken);
    }

    private static async Task<JsonElement> SearchAsync(TestUser user, string query) => await (await GetAsync(user, query)).JsonAsync();

    private static string[] Texts(JsonElement page) => [.. page.GetProperty("results").EnumerateArray().Select(m => m.GetProperty("text").GetString()!)];

    [Fact]
    public async Task A_result_is_the_history_item_as_it_is_now_plus_the_room_name()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, room) = await RoomOfTwo.CreateAsync(server, "amy", "ben", "Général");
        var seq = await amy.PostMessageAsync(room, "Crème brûlée tonight?");
        await ben.PostMessageAsync(room, "creme of the crop");
        await (await ben.ReactAsync(room, seq, "👍", on: true)).JsonAsync();
        await (await amy.EditAsync(room, seq, new { text = "Crème brûlée tomorrow, @" + ben.Username })).JsonAsync();

        var page = await SearchAsync(ben, "q=creme%20brulee");
        Assert.Equal(JsonValueKind.Null, page.GetProperty("cursor").ValueKind);
        var hit = Assert.Single(page.GetProperty("results").EnumerateArray());
        var history = await ben.MessageAsync(room, seq);
        foreach (var field in history.EnumerateObject())
        {
            Assert.Equal(field.Value.ToString(), hit.GetProperty(field.Name).ToString());
        }

        Assert.Equal("Général", hit.GetProperty("room_name").GetString());
        Assert.NotEqual(JsonValueKind.Null, hit.GetProperty("edited_ts").ValueKind);
        Assert.Equal([ben.Username], hit.GetProperty("reactions")[0].GetProperty("users").Strings());

        Assert.Empty(Texts(await SearchAsync(ben, "q=tonight")));
        Assert.Equal(["creme of the crop", "Crème brûlée tomorrow, @" + ben.Username], Texts(await SearchAsync(ben, "q=crem")));
    }

    [Fact]
    public async Task Pages_follow_the_cursor_newest_first_until_it_is_null()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        var room = await amy.CreateRoomAsync("paging");
        var sock = await EventSocket.ConnectAsync(amy);
        for (var i = 1; i <= 7; i++)
        {
            await sock.AckAsync(EventSocket.Send(room, $"item {i} of seven"));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await SearchAsync(amy, "q=seven&limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            seen.AddRange(Texts(page));
            cursor = page.GetProperty("cursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 7).Reverse().Select(i => $"item {i} of seven"), seen);
        Assert.Equal(7, (await SearchAsync(amy, "q=seven")).GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task Deleted_messages_and_rooms_the_caller_left_are_not_searched()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, room) = await RoomOfTwo.CreateAsync(server, "amy", "ben", "leaving");
        var gone = await amy.PostMessageAsync(room, "password is hunter2");
        await amy.PostMessageAsync(room, "password manager recommended");
        await (await amy.DeleteMessageAsync(room, gone)).JsonAsync();

        Assert.Equal(["password manager recommended"], Texts(await SearchAsync(ben, "q=password")));
        Assert.Empty(Texts(await SearchAsync(ben, "q=hunter2")));

        using (var http = ben.Http())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync($"/api/rooms/{room}/leave", null, TestContext.Current.CancellationToken)).StatusCode);
        }

        Assert.Empty(Texts(await SearchAsync(ben, "q=password")));
        await Problem.AssertAsync(await GetAsync(ben, $"q=password&room={room}"), HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("")]
    [InlineData("q=")]
    [InlineData("q=%3F%21%20--")]
    [InlineData("q=a&q=b")]
    [InlineData("q=hello&limit=0")]
    [InlineData("q=hello&limit=101")]
    [InlineData("q=hello&limit=ten")]
    [InlineData("q=hello&cursor=42")]
    [InlineData("q=hello&cursor=s-1")]
    public async Task A_malformed_search_is_a_400(string query)
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        await Problem.AssertAsync(await GetAsync(amy, query), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_query_length_room_and_sender_rules_hold()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, room) = await RoomOfTwo.CreateAsync(server, "amy", "ben", "rules");
        await ben.PostMessageAsync(room, "ok from ben");

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(amy, "q=" + new string('o', 200))).StatusCode);
        await Problem.AssertAsync(await GetAsync(amy, "q=" + new string('o', 201)), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(amy, "q=" + Uri.EscapeDataString(string.Concat(Enumerable.Repeat("😀", 199)) + "o"))).StatusCode);
        await Problem.AssertAsync(await GetAsync(amy, "q=ok&room=rnosuchroom000"), HttpStatusCode.NotFound);

        var other = await server.UserAsync("cat");
        var closed = await other.CreateRoomAsync("closed");
        await Problem.AssertAsync(await GetAsync(amy, $"q=ok&room={closed}"), HttpStatusCode.Forbidden);

        Assert.Equal(["ok from ben"], Texts(await SearchAsync(amy, $"q=ok&room={room}&from={ben.Username.ToUpperInvariant()}")));
        Assert.Empty(Texts(await SearchAsync(amy, $"q=ok&from={amy.Username}")));
        Assert.Empty(Texts(await SearchAsync(amy, "q=ok&from=nobody")));
        Assert.Empty(Texts(await SearchAsync(amy, "q=ok&from=" + Uri.EscapeDataString("not a name!"))));

        using var anonymous = new HttpClient { BaseAddress = server.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/search?q=ok", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task A_v1_database_becomes_searchable_when_it_is_migrated()
    {
        var folder = Directory.CreateTempSubdirectory("natter-test-").FullName;
        try
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "natter-v1.db"), Path.Combine(folder, ServerOptions.DatabaseFile));
            await using var server = await TestServer.StartAsync(new ServerOptions { Folder = folder });
            var alice = (await TestUser.LoginAsync(server.BaseUri, "alice", "password-alice")).At(server);

            Assert.Equal(["Ünïcödé and emoji 👨‍👩‍👧"], Texts(await SearchAsync(alice, "q=unicode")));
            Assert.Equal(["a direct word, carol"], Texts(await SearchAsync(alice, "q=carol")));
            Assert.Equal(["thanks alice 😀"], Texts(await SearchAsync(alice, "q=thanks%20ali")));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Searches_over_the_per_user_limit_get_429_with_retry_after_and_others_still_search()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SearchesPerMinute=3");
        var amy = await server.UserAsync("amy");
        var ben = await server.UserAsync("ben");
        var room = await amy.CreateRoomAsync("limits");
        await amy.PostMessageAsync(room, "quarterly numbers");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(["quarterly numbers"], Texts(await SearchAsync(amy, "q=quarterly")));
        }

        using var limited = await GetAsync(amy, "q=quarterly");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        var problem = await limited.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("Too many searches", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var wait = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(wait, 1, 60);

        // The limit is the user's own.
        Assert.Empty(Texts(await SearchAsync(ben, "q=quarterly")));
    }
}
