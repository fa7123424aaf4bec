using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

public sealed class RoomsTests
{
    private static async Task<JsonElement> Body(HttpResponseMessage r) => await r.Content.ReadFromJsonAsync<JsonElement>();


    [Fact]
    public async Task Created_rooms_are_listed_for_members_and_publicly_with_member_counts()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        using var http = a.Http();

        var created = await http.PostAsJsonAsync("/api/rooms", new { name = "  Général ☕  " });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var room = await Body(created);
        Assert.Equal("Général ☕", room.GetProperty("name").GetString());
        Assert.Equal("group", room.GetProperty("kind").GetString());
        var id = room.GetProperty("id").GetString()!;

        var mine = await http.GetFromJsonAsync<JsonElement[]>("/api/rooms");
        var listed = Assert.Single(mine!);
        Assert.Equal(id, listed.GetProperty("id").GetString());
        Assert.Equal(0, listed.GetProperty("last_seq").GetInt64());
        Assert.Equal(0, listed.GetProperty("read_seq").GetInt64());

        await b.JoinAsync(id);
        using var bHttp = b.Http();
        var pub = await bHttp.GetFromJsonAsync<JsonElement[]>("/api/rooms/public");
        Assert.Equal(2, pub!.Single(r => r.GetProperty("id").GetString() == id).GetProperty("members").GetInt32());
    }

    [Theory]
    [InlineData("""{"name":""}""")]
    [InlineData("""{"name":"   "}""")]
    [InlineData("""{"name":7}""")]
    [InlineData("""{}""")]
    [InlineData("""{"name":"12345678901234567890123456789012345678901234567890123456789012345"}""")]
    [InlineData("""{"name":""")]
    public async Task Creating_a_room_with_a_bad_name_is_400(string body)
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        using var http = a.Http();
        await Problem.AssertAsync(await http.PostAsync("/api/rooms", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.Empty((await http.GetFromJsonAsync<JsonElement[]>("/api/rooms"))!);
    }

    [Fact]
    public async Task Join_and_leave_answer_404_for_unknown_rooms_and_403_for_direct_rooms()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var c = await server.UserAsync("c");
        using var http = c.Http();
        await Problem.AssertAsync(await http.PostAsync("/api/rooms/rnope/join", null), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await http.PostAsync("/api/rooms/rnope/leave", null), HttpStatusCode.NotFound);

        using var aHttp = a.Http();
        var direct = await Body(await aHttp.PostAsJsonAsync("/api/direct", new { username = b.Username }));
        await Problem.AssertAsync(await http.PostAsync($"/api/rooms/{direct.GetProperty("id").GetString()}/join", null), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_member_who_left_can_no_longer_read_or_send()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var room = await a.CreateRoomAsync();
        await b.JoinAsync(room);
        using var http = b.Http();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "hi", client_id = "1" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync($"/api/rooms/{room}/leave", null)).StatusCode);
        await Problem.AssertAsync(await http.GetAsync($"/api/rooms/{room}/messages"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "again", client_id = "2" }), HttpStatusCode.Forbidden);
        Assert.Empty((await http.GetFromJsonAsync<JsonElement[]>("/api/rooms"))!);
    }

    [Fact]
    public async Task Direct_rooms_are_one_per_pair_and_named_after_the_other_user()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        using var aHttp = a.Http();
        using var bHttp = b.Http();

        var first = await aHttp.PostAsJsonAsync("/api/direct", new { username = b.Username.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var room = await Body(first);
        Assert.Equal(b.Username, room.GetProperty("name").GetString());
        Assert.Equal("direct", room.GetProperty("kind").GetString());

        var again = await bHttp.PostAsJsonAsync("/api/direct", new { username = a.Username });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var same = await Body(again);
        Assert.Equal(room.GetProperty("id").GetString(), same.GetProperty("id").GetString());
        Assert.Equal(a.Username, same.GetProperty("name").GetString());

        var bRooms = await bHttp.GetFromJsonAsync<JsonElement[]>("/api/rooms");
        Assert.Equal(a.Username, Assert.Single(bRooms!).GetProperty("name").GetString());

        await Problem.AssertAsync(await aHttp.PostAsJsonAsync("/api/direct", new { username = "nobody-here" }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await aHttp.PostAsJsonAsync("/api/direct", new { username = 12 }), HttpStatusCode.BadRequest);
        var publicRooms = await aHttp.GetFromJsonAsync<JsonElement[]>("/api/rooms/public");
        Assert.DoesNotContain(publicRooms!, r => r.GetProperty("id").GetString() == room.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Http_send_stores_trimmed_text_and_a_repeated_client_id_returns_the_first_message()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        var room = await a.CreateRoomAsync();
        using var http = a.Http();

        var first = await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "  hello  ", client_id = "c-1" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var m = await Body(first);
        Assert.Equal("hello", m.GetProperty("text").GetString());
        Assert.Equal(1, m.GetProperty("seq").GetInt64());
        Assert.Equal(a.Username, m.GetProperty("from").GetString());
        Assert.Equal(room, m.GetProperty("room").GetString());
        Assert.Equal("c-1", m.GetProperty("client_id").GetString());
        Assert.True(m.GetProperty("ts").GetInt64() > 1_700_000_000_000);

        var repeat = await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "hello again", client_id = "c-1" });
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        var r = await Body(repeat);
        Assert.Equal(1, r.GetProperty("seq").GetInt64());
        Assert.Equal("hello", r.GetProperty("text").GetString());
        Assert.Equal(m.GetProperty("ts").GetInt64(), r.GetProperty("ts").GetInt64());
        Assert.Single(await a.AllMessagesAsync(room));
    }

    [Fact]
    public async Task Http_send_refuses_bad_messages_and_stores_nothing()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var room = await a.CreateRoomAsync();
        var other = await b.CreateRoomAsync();
        using var http = a.Http();

        await Problem.AssertAsync(await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "   ", client_id = "1" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = 5, client_id = "1" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "x", client_id = new string('c', 65) }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = new string('x', 4001), client_id = "1" }), HttpStatusCode.RequestEntityTooLarge);
        await Problem.AssertAsync(await http.PostAsJsonAsync($"/api/rooms/{other}/messages", new { text = "hi", client_id = "1" }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/rooms/rmissing/messages", new { text = "hi", client_id = "1" }), HttpStatusCode.NotFound);
        Assert.Empty(await a.AllMessagesAsync(room));

        // 4000 code points are fine even when they take two UTF-16 units each.
        var emoji = string.Concat(Enumerable.Repeat("😀", 4000));
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = emoji, client_id = "e" })).StatusCode);
    }

    [Fact]
    public async Task Sends_over_the_rate_limit_get_429_and_are_not_stored()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SendsPerSecond=1", "Natter:Limits:SendBurst=3");
        var a = await server.UserAsync();
        var room = await a.CreateRoomAsync();
        using var http = a.Http();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            var r = await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = $"m{i}", client_id = $"{i}" });
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Problem.AssertAsync(r, HttpStatusCode.TooManyRequests);
            }
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(statuses.Count(s => s == HttpStatusCode.Created), (await a.AllMessagesAsync(room)).Count);
    }

    [Fact]
    public async Task History_pages_backwards_with_before_and_forwards_with_after()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SendBurst=1000");
        var a = await server.UserAsync();
        var room = await a.CreateRoomAsync();
        using var http = a.Http();
        for (var i = 1; i <= 120; i++)
        {
            await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = $"m{i}", client_id = $"{i}" });
        }

        static long[] Seqs(JsonElement[] page) => [.. page.Select(m => m.GetProperty("seq").GetInt64())];
        Assert.Equal(Enumerable.Range(71, 50).Select(i => (long)i), Seqs(await a.HistoryAsync(room)));
        Assert.Equal(Enumerable.Range(61, 10).Select(i => (long)i), Seqs(await a.HistoryAsync(room, "?before=71&limit=10")));
        Assert.Equal(Enumerable.Range(11, 5).Select(i => (long)i), Seqs(await a.HistoryAsync(room, "?after=10&limit=5")));
        Assert.Equal(Enumerable.Range(11, 4).Select(i => (long)i), Seqs(await a.HistoryAsync(room, "?after=10&before=15")));
        Assert.Equal(120, (await a.AllMessagesAsync(room)).Count);

        foreach (var bad in new[] { "?limit=0", "?limit=201", "?limit=x", "?before=-1", "?after=abc" })
        {
            await Problem.AssertAsync(await http.GetAsync($"/api/rooms/{room}/messages{bad}"), HttpStatusCode.BadRequest);
        }

        var mine = await http.GetFromJsonAsync<JsonElement[]>("/api/rooms");
        Assert.Equal(120, Assert.Single(mine!).GetProperty("last_seq").GetInt64());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_and_stores_nothing()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:MaxHttpBodyBytes=2048");
        var a = await server.UserAsync();
        var room = await a.CreateRoomAsync();
        using var http = a.Http();
        var big = new StringContent("{\"text\":\"" + new string('x', 3000) + "\",\"client_id\":\"1\"}", Encoding.UTF8, "application/json");
        await Problem.AssertAsync(await http.PostAsync($"/api/rooms/{room}/messages", big), HttpStatusCode.RequestEntityTooLarge);
        Assert.Empty(await a.AllMessagesAsync(room));
    }

    [Fact]
    public async Task Health_answers_200_when_the_store_and_queue_answer()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Http();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
    }

    [Fact]
    public async Task Unknown_endpoints_answer_with_problem_details()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        using var http = a.Http();
        await Problem.AssertAsync(await http.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound);
    }
}
