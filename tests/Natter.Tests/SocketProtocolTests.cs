using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

public sealed class SocketProtocolTests
{
    [Fact]
    public async Task The_upgrade_needs_a_session_and_refuses_foreign_origins()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        var wsUri = new Uri(server.BaseUri, "/ws");

        var anonymous = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(wsUri, null, o => o.CollectHttpResponseDetails = true));
        Assert.Contains("401", anonymous.Message, StringComparison.Ordinal);

        var foreign = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(wsUri, a.Token, o => o.SetRequestHeader("Origin", "http://evil.example")));
        Assert.Contains("403", foreign.Message, StringComparison.Ordinal);

        await using var own = await TestSocket.ConnectAsync(wsUri, a.Token, o => o.SetRequestHeader("Origin", server.BaseUri.GetLeftPart(UriPartial.Authority)));
        Assert.Equal(a.Username, (await own.NextAsync("welcome")).GetProperty("username").GetString());

        await using var allowedServer = await TestServer.StartAsync("Natter:WebSocket:AllowedOrigins:0=http://chat.example");
        var b = await allowedServer.UserAsync();
        await using var allowed = await TestSocket.ConnectAsync(new Uri(allowedServer.BaseUri, "/ws"), b.Token, o => o.SetRequestHeader("Origin", "http://chat.example"));
        await allowed.NextAsync("welcome");
    }

    [Fact]
    public async Task The_welcome_lists_the_users_rooms_with_last_and_read_seq()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        var room = await a.CreateRoomAsync("lobby");
        using var http = a.Http();
        await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "one", client_id = "1" });
        await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "two", client_id = "2" });

        var socket = await a.ConnectAsync();
        var welcome = await socket.NextAsync("welcome");
        var listed = Assert.Single(welcome.GetProperty("rooms").EnumerateArray());
        Assert.Equal(room, listed.GetProperty("id").GetString());
        Assert.Equal("lobby", listed.GetProperty("name").GetString());
        Assert.Equal("group", listed.GetProperty("kind").GetString());
        Assert.Equal(2, listed.GetProperty("last_seq").GetInt64());
        Assert.Equal(0, listed.GetProperty("read_seq").GetInt64());
    }

    [Fact]
    public async Task A_send_is_acked_with_its_ref_and_reaches_every_members_sockets_including_the_senders()
    {
        await using var server = await TestServer.StartAsync();
        var (a, b, room) = await RoomOfTwo.CreateAsync(server);
        var a1 = await a.ConnectAsync();
        var a2 = await a.ConnectAsync();
        var b1 = await b.ConnectAsync();
        foreach (var s in new[] { a1, a2, b1 })
        {
            await s.NextAsync("welcome");
            await s.SendAsync(new { type = "ping", @ref = "p" });
            Assert.Equal("p", (await s.NextAsync("pong")).GetProperty("ref").GetString());
        }

        await a1.SendAsync(new { type = "send", room, text = " hello <b>world</b> ", client_id = "c1", @ref = "r1" });
        var ack = await a1.NextAsync("ack");
        Assert.Equal("r1", ack.GetProperty("ref").GetString());
        Assert.Equal(room, ack.GetProperty("room").GetString());
        Assert.Equal(1, ack.GetProperty("seq").GetInt64());
        Assert.Equal("c1", ack.GetProperty("client_id").GetString());

        foreach (var s in new[] { a1, a2, b1 })
        {
            var m = await s.NextAsync("message");
            Assert.Equal(room, m.GetProperty("room").GetString());
            Assert.Equal(1, m.GetProperty("seq").GetInt64());
            Assert.Equal(a.Username, m.GetProperty("from").GetString());
            Assert.Equal("hello <b>world</b>", m.GetProperty("text").GetString());
            Assert.Equal(ack.GetProperty("ts").GetInt64(), m.GetProperty("ts").GetInt64());
            Assert.Equal("c1", m.GetProperty("client_id").GetString());
        }
    }

    [Fact]
    public async Task A_repeated_client_id_over_the_socket_and_http_gets_the_first_ack_and_stores_nothing()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        var room = await a.CreateRoomAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");

        await socket.SendAsync(new { type = "send", room, text = "once", client_id = "same", @ref = "1" });
        var first = await socket.NextAsync("ack");
        await socket.SendAsync(new { type = "send", room, text = "twice", client_id = "same", @ref = "2" });
        var second = await socket.NextAsync("ack");
        Assert.Equal("2", second.GetProperty("ref").GetString());
        Assert.Equal(first.GetProperty("seq").GetInt64(), second.GetProperty("seq").GetInt64());
        Assert.Equal(first.GetProperty("ts").GetInt64(), second.GetProperty("ts").GetInt64());

        using var http = a.Http();
        var viaHttp = await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = "thrice", client_id = "same" });
        Assert.Equal(HttpStatusCode.OK, viaHttp.StatusCode);
        Assert.Equal(first.GetProperty("seq").GetInt64(), (await viaHttp.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("seq").GetInt64());

        var stored = Assert.Single(await a.AllMessagesAsync(room));
        Assert.Equal("once", stored.GetProperty("text").GetString());

        // The same client_id in another room is another message.
        var other = await a.CreateRoomAsync();
        await socket.SendAsync(new { type = "send", room = other, text = "elsewhere", client_id = "same" });
        var otherAck = await socket.NextAsync("ack");
        Assert.Equal(other, otherAck.GetProperty("room").GetString());
        Assert.Equal(1, otherAck.GetProperty("seq").GetInt64());
        Assert.Single(await a.AllMessagesAsync(other));
    }

    public static TheoryData<string, string> BadFrames => new()
    {
        { "not json", "bad_request" },
        { "[1,2]", "bad_request" },
        { "{\"text\":\"no type\"}", "bad_request" },
        { "{\"type\":5}", "bad_request" },
        { "{\"type\":\"dance\"}", "bad_request" },
        { "{\"type\":\"send\",\"room\":5,\"text\":\"x\",\"client_id\":\"1\"}", "bad_request" },
        { "{\"type\":\"send\",\"room\":\"ROOM\",\"text\":[],\"client_id\":\"1\"}", "bad_request" },
        { "{\"type\":\"send\",\"room\":\"ROOM\",\"text\":\"   \",\"client_id\":\"1\"}", "bad_request" },
        { "{\"type\":\"send\",\"room\":\"ROOM\",\"text\":\"x\",\"client_id\":\"\"}", "bad_request" },
        { "{\"type\":\"send\",\"text\":\"x\",\"client_id\":\"1\"}", "bad_request" },
        { "{\"type\":\"send\",\"room\":\"ROOM\",\"text\":\"" + new string('x', 4001) + "\",\"client_id\":\"1\"}", "too_large" },
        { "{\"type\":\"send\",\"room\":\"rnope\",\"text\":\"x\",\"client_id\":\"1\"}", "not_found" },
        { "{\"type\":\"send\",\"to\":\"nobody-at-all\",\"text\":\"x\",\"client_id\":\"1\"}", "not_found" },
        { "{\"type\":\"send\",\"room\":\"OTHER\",\"text\":\"x\",\"client_id\":\"1\"}", "forbidden" },
        { "{\"type\":\"typing\",\"room\":\"OTHER\"}", "forbidden" },
        { "{\"type\":\"typing\"}", "bad_request" },
        { "{\"type\":\"read\",\"room\":\"ROOM\",\"seq\":\"1\"}", "bad_request" },
        { "{\"type\":\"read\",\"room\":\"rnope\",\"seq\":1}", "not_found" },
        { "{\"type\":\"sync\",\"rooms\":[]}", "bad_request" },
        { "{\"type\":\"sync\",\"rooms\":{\"ROOM\":-1}}", "bad_request" },
        { "{\"type\":\"sync\",\"rooms\":{\"OTHER\":0}}", "forbidden" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_bad_frame_gets_an_error_with_its_ref_and_the_socket_stays_usable(string frame, string code)
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var room = await a.CreateRoomAsync();
        var other = await b.CreateRoomAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");

        var text = frame.Replace("ROOM", room, StringComparison.Ordinal).Replace("OTHER", other, StringComparison.Ordinal);
        if (text.StartsWith("{\"type\":\"", StringComparison.Ordinal))
        {
            text = text.Insert(1, "\"ref\":\"bad-1\",");
        }

        await socket.SendTextAsync(text);
        var error = await socket.NextAsync("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        if (text.Contains("\"ref\":\"bad-1\"", StringComparison.Ordinal) && !text.Contains("\"type\":5", StringComparison.Ordinal))
        {
            Assert.Equal("bad-1", error.GetProperty("ref").GetString());
        }

        await socket.SendAsync(new { type = "send", room, text = "still here", client_id = "ok", @ref = "good" });
        Assert.Equal("good", (await socket.NextAsync("ack")).GetProperty("ref").GetString());
        Assert.Equal("still here", Assert.Single(await a.AllMessagesAsync(room)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_binary_frame_is_a_bad_request_and_the_socket_stays_open()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");
        await socket.SendBytesAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal("bad_request", (await socket.NextAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
    }

    [Fact]
    public async Task A_frame_over_the_limit_closes_with_1009()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:MaxFrameBytes=4096");
        var a = await server.UserAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");
        await socket.SendTextAsync("{\"type\":\"ping\",\"ref\":\"" + new string('x', 5000) + "\"}");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await socket.WaitClosedAsync());
    }

    [Fact]
    public async Task A_frame_that_is_not_utf8_closes_with_1007()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");
        await socket.SendBytesAsync([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d], WebSocketMessageType.Text);
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await socket.WaitClosedAsync());
    }

    [Fact]
    public async Task More_than_twenty_bad_frames_in_a_minute_close_with_1008()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");
        for (var i = 0; i < 20; i++)
        {
            await socket.SendTextAsync("nonsense");
        }

        Assert.Equal(20, (await socket.TakeAsync("error", 20)).Count);
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
        await socket.SendTextAsync("nonsense");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await socket.WaitClosedAsync());
    }

    [Fact]
    public async Task Socket_sends_over_the_rate_limit_get_rate_limited_and_are_not_stored()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:SendsPerSecond=1", "Natter:Limits:SendBurst=5");
        var a = await server.UserAsync();
        var room = await a.CreateRoomAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");
        for (var i = 0; i < 30; i++)
        {
            await socket.SendAsync(new { type = "send", room, text = $"m{i}", client_id = $"{i}", @ref = $"{i}" });
        }

        var acks = 0;
        var limited = 0;
        while (acks + limited < 30)
        {
            var f = await socket.NextAsync();
            var type = f.GetProperty("type").GetString();
            if (type == "ack")
            {
                acks++;
            }
            else if (type == "error")
            {
                Assert.Equal("rate_limited", f.GetProperty("code").GetString());
                limited++;
            }
        }

        Assert.True(limited > 0);
        Assert.Equal(acks, (await a.AllMessagesAsync(room)).Count);

        // Rate-limited frames are not bad frames: the socket is still open.
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
    }

    [Fact]
    public async Task Typing_reaches_other_members_only()
    {
        await using var server = await TestServer.StartAsync();
        var (two, sa, sb) = await RoomOfTwo.ConnectedAsync(server);
        var (a, room) = (two.A, two.Room);

        await sa.SendAsync(new { type = "typing", room });
        var typing = await sb.NextAsync("typing");
        Assert.Equal(room, typing.GetProperty("room").GetString());
        Assert.Equal(a.Username, typing.GetProperty("username").GetString());
        Assert.True(await sa.NoneAsync("typing", TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Read_markers_are_stored_never_move_backwards_and_reach_other_members()
    {
        await using var server = await TestServer.StartAsync();
        var two = await RoomOfTwo.CreateAsync(server);
        var (a, b, room) = two;
        using var http = a.Http();
        for (var i = 0; i < 5; i++)
        {
            await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = $"m{i}", client_id = $"{i}" });
        }

        var (sa, sb) = await two.ConnectAsync();

        await sb.SendAsync(new { type = "read", room, seq = 4 });
        var read = await sa.NextAsync("read");
        Assert.Equal(b.Username, read.GetProperty("username").GetString());
        Assert.Equal(4, read.GetProperty("seq").GetInt64());

        await sb.SendAsync(new { type = "read", room, seq = 2 });
        await sb.SendAsync(new { type = "read", room, seq = 99 });
        var clamped = await sa.NextAsync("read");
        Assert.Equal(5, clamped.GetProperty("seq").GetInt64());

        using var bHttp = b.Http();
        await Wait.UntilAsync(async () =>
            (await bHttp.GetFromJsonAsync<JsonElement[]>("/api/rooms"))!.Single().GetProperty("read_seq").GetInt64() == 5, "b's read marker at 5");
        var again = await b.ConnectAsync();
        Assert.Equal(5, (await again.NextAsync("welcome")).GetProperty("rooms")[0].GetProperty("read_seq").GetInt64());
    }

    [Fact]
    public async Task Presence_tells_roommates_when_a_user_comes_online_and_when_the_last_socket_closes()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var stranger = await server.UserAsync("s");
        var room = await a.CreateRoomAsync();
        await b.JoinAsync(room);
        var sa = await a.ConnectAsync();
        await sa.NextAsync("welcome");
        var ss = await stranger.ConnectAsync();
        await ss.NextAsync("welcome");

        var b1 = await b.ConnectAsync();
        var online = await sa.NextAsync("presence");
        Assert.Equal(b.Username, online.GetProperty("username").GetString());
        Assert.True(online.GetProperty("online").GetBoolean());

        var b2 = await b.ConnectAsync();
        await b2.NextAsync("welcome");
        await b1.DisposeAsync();
        Assert.True(await sa.NoneAsync("presence", TimeSpan.FromMilliseconds(400)));
        await b2.DisposeAsync();
        var offline = await sa.NextAsync("presence");
        Assert.False(offline.GetProperty("online").GetBoolean());
        Assert.True(await ss.NoneAsync("presence", TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Joining_and_leaving_send_member_events_and_change_what_the_socket_receives()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var room = await a.CreateRoomAsync();
        var sa = await a.ConnectAsync();
        var sb = await b.ConnectAsync();
        await sa.NextAsync("welcome");
        await sb.NextAsync("welcome");

        await b.JoinAsync(room);
        foreach (var s in new[] { sa, sb })
        {
            var joined = await s.NextAsync("member");
            Assert.Equal("joined", joined.GetProperty("event").GetString());
            Assert.Equal(b.Username, joined.GetProperty("username").GetString());
            Assert.Equal(room, joined.GetProperty("room").GetString());
        }

        await sa.SendAsync(new { type = "send", room, text = "welcome b", client_id = "1" });
        Assert.Equal("welcome b", (await sb.NextAsync("message")).GetProperty("text").GetString());

        using var bHttp = b.Http();
        Assert.Equal(HttpStatusCode.NoContent, (await bHttp.PostAsync($"/api/rooms/{room}/leave", null)).StatusCode);
        foreach (var s in new[] { sa, sb })
        {
            Assert.Equal("left", (await s.NextAsync("member")).GetProperty("event").GetString());
        }

        await sa.SendAsync(new { type = "send", room, text = "bye b", client_id = "2" });
        await sa.NextAsync("ack");
        Assert.True(await sb.NoneAsync("message", TimeSpan.FromMilliseconds(400)));
    }

    [Fact]
    public async Task A_first_direct_message_creates_the_room_and_it_appears_on_the_receivers_sockets()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.UserAsync("a");
        var b = await server.UserAsync("b");
        var sa = await a.ConnectAsync();
        var sb = await b.ConnectAsync();
        await sa.NextAsync("welcome");
        await sb.NextAsync("welcome");

        await sa.SendAsync(new { type = "send", to = b.Username.ToUpperInvariant(), text = "psst", client_id = "d1", @ref = "d" });
        var ack = await sa.NextAsync("ack");
        var roomId = ack.GetProperty("room").GetString();

        var room = await sb.NextAsync("room");
        Assert.Equal(roomId, room.GetProperty("id").GetString());
        Assert.Equal("direct", room.GetProperty("kind").GetString());
        Assert.Equal(a.Username, room.GetProperty("name").GetString());
        var m = await sb.NextAsync("message");
        Assert.Equal("psst", m.GetProperty("text").GetString());
        Assert.Equal(1, m.GetProperty("seq").GetInt64());

        Assert.Equal("psst", (await sa.NextAsync("message")).GetProperty("text").GetString());
        await sb.SendAsync(new { type = "send", room = roomId, text = "hi back", client_id = "d2" });
        Assert.Equal("hi back", (await sa.NextAsync("message")).GetProperty("text").GetString());

        await sa.SendAsync(new { type = "send", to = b.Username, text = "same room", client_id = "d3" });
        Assert.Equal(roomId, (await sa.NextAsync("ack")).GetProperty("room").GetString());
    }
}
