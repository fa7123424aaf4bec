using System.Net;
using System.Text;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>
/// Issue 9, item 3: JSON may escape a lone surrogate ("\ud800"), which is no text at all. Every endpoint answers it
/// with 400 and every frame with a bad_request error; nothing is logged as an error (the server under test fails
/// on error logs) and the socket stays open.
/// </summary>
public sealed class LoneSurrogateTests
{
    private const string Lone = "\\ud800";

    private static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Every_endpoint_answers_a_lone_surrogate_in_any_string_with_400()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var room = await a.CreateRoomAsync();
        using var anonymous = server.Http();
        using var http = a.Http();

        var cases = new (HttpClient Http, string Path, string Body)[]
        {
            (anonymous, "/api/register", $$"""{"username":"x{{Lone}}","password":"long enough"}"""),
            (anonymous, "/api/register", $$"""{"username":"valid","password":"long {{Lone}} enough"}"""),
            (anonymous, "/api/login", $$"""{"username":"{{Lone}}","password":"long enough"}"""),
            (anonymous, "/api/login", $$"""{"username":"{{a.Username}}","password":"{{Lone}}"}"""),
            (http, "/api/rooms", $$"""{"name":"room {{Lone}}"}"""),
            (http, "/api/direct", $$"""{"username":"{{b.Username}}{{Lone}}"}"""),
            (http, $"/api/rooms/{room}/messages", $$"""{"text":"hi {{Lone}}","client_id":"1"}"""),
            (http, $"/api/rooms/{room}/messages", $$"""{"text":"hi","client_id":"{{Lone}}"}"""),
            (http, $"/api/rooms/{room}/messages", $$"""{"text":"\udc00 low alone","client_id":"2"}"""),
        };
        foreach (var (client, path, body) in cases)
        {
            var r = await client.PostAsync(path, Json(body));
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{path} {body}: {(int)r.StatusCode}");
            await Problem.AssertAsync(r, HttpStatusCode.BadRequest);
        }

        // A real pair still works.
        var ok = await http.PostAsync($"/api/rooms/{room}/messages", Json("""{"text":"smile \ud83d\ude00","client_id":"3"}"""));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal("smile \U0001F600", Assert.Single(await a.AllMessagesAsync(room)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_frame_with_a_lone_surrogate_anywhere_gets_bad_request_and_the_socket_stays_open()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var room = await a.CreateRoomAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");

        var frames = new[]
        {
            $$"""{"type":"ping","ref":"{{Lone}}"}""",
            $$"""{"type":"pi{{Lone}}ng","ref":"r"}""",
            $$"""{"type":"send","room":"{{room}}","text":"hi {{Lone}}","client_id":"1","ref":"r"}""",
            $$"""{"type":"send","room":"{{room}}{{Lone}}","text":"hi","client_id":"1","ref":"r"}""",
            $$"""{"type":"send","room":"{{room}}","text":"hi","client_id":"{{Lone}}","ref":"r"}""",
            $$"""{"type":"send","to":"{{b.Username}}{{Lone}}","text":"hi","client_id":"1","ref":"r"}""",
            $$"""{"type":"typing","room":"{{Lone}}","ref":"r"}""",
            $$"""{"type":"read","room":"{{Lone}}","seq":1,"ref":"r"}""",
            $$"""{"type":"sync","rooms":{"{{Lone}}":0},"ref":"r"}""",
        };
        foreach (var frame in frames)
        {
            await socket.SendTextAsync(frame);
            var error = await socket.NextAsync("error");
            Assert.Equal("bad_request", error.GetProperty("code").GetString());
        }

        await socket.SendAsync(new { type = "ping", @ref = "still" });
        Assert.Equal("still", (await socket.NextAsync("pong")).GetProperty("ref").GetString());
        Assert.Empty(await a.AllMessagesAsync(room));
    }
}
