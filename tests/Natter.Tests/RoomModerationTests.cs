using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>Protocol v2 §4 on one node: every call of rooms with owners, its success code and its refusals, and what sockets see.</summary>
public sealed class RoomModerationTests
{
    private static string Str(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    /// <summary>A user with exactly this name (each test has a server of its own).</summary>
    private static async Task<TestUser> Named(TestServer server, string name) => (await TestUser.RegisterAsync(server.BaseUri, name)).At(server);

    private static async Task<JsonElement> Json(HttpResponseMessage r, HttpStatusCode status)
    {
        Assert.Equal(status, r.StatusCode);
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<HttpResponseMessage> Send(TestUser user, HttpMethod method, string path, object? body = null)
    {
        using var http = user.Http();
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        return await http.SendAsync(request);
    }

    private static async Task Expect(HttpStatusCode status, Task<HttpResponseMessage> call)
    {
        using var r = await call;
        if (status == HttpStatusCode.NoContent)
        {
            Assert.Equal(status, r.StatusCode);
        }
        else
        {
            await Problem.AssertAsync(r, status);
        }
    }

    private static async Task<string> CreateAsync(TestUser owner, string name = "room", string? visibility = null, string? topic = null)
    {
        using var r = await Send(owner, HttpMethod.Post, "/api/rooms", new { name, visibility, topic });
        return Str(await Json(r, HttpStatusCode.Created), "id");
    }

    /// <summary>A public group room of the owner's that the members have joined, in this order.</summary>
    private static async Task<string> RoomAsync(TestUser owner, string name, params TestUser[] members)
    {
        var room = await CreateAsync(owner, name);
        foreach (var member in members)
        {
            await member.JoinAsync(room);
        }

        return room;
    }

    private static async Task<string[]> MembersAsync(TestUser user, string room)
    {
        using var r = await Send(user, HttpMethod.Get, $"/api/rooms/{room}/members");
        var list = await Json(r, HttpStatusCode.OK);
        return [.. list.EnumerateArray().Select(m => $"{Str(m, "username")}:{Str(m, "role")}")];
    }

    private static Task<HttpResponseMessage> Kick(TestUser by, string room, string who) => Send(by, HttpMethod.Post, $"/api/rooms/{room}/kick", new { username = who });

    private static Task<HttpResponseMessage> Ban(TestUser by, string room, string who) => Send(by, HttpMethod.Post, $"/api/rooms/{room}/bans", new { username = who });

    private static Task<HttpResponseMessage> Invite(TestUser by, string room, string who) => Send(by, HttpMethod.Post, $"/api/rooms/{room}/invites", new { username = who });

    private static Task<HttpResponseMessage> Role(TestUser by, string room, string who, string role) =>
        Send(by, HttpMethod.Put, $"/api/rooms/{room}/roles/{who}", new { role });

    private static Task<HttpResponseMessage> Join(TestUser user, string room) => Send(user, HttpMethod.Post, $"/api/rooms/{room}/join");

    [Fact]
    public async Task The_room_object_carries_topic_visibility_members_and_the_callers_role_everywhere()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben) = await server.UsersNamedAsync("amy", "ben");

        using var created = await Send(amy, HttpMethod.Post, "/api/rooms", new { name = "plans", topic = "  what next  " });
        var room = await Json(created, HttpStatusCode.Created);
        Assert.Equal(("plans", "what next", "public", 1, "owner"), (Str(room, "name"), Str(room, "topic"), Str(room, "visibility"),
            room.GetProperty("members").GetInt32(), Str(room, "role")));
        var id = Str(room, "id");

        var joined = await Json(await Join(ben, id), HttpStatusCode.OK);
        Assert.Equal((id, "member", 2, "what next"), (Str(joined, "id"), Str(joined, "role"), joined.GetProperty("members").GetInt32(), Str(joined, "topic")));

        using var http = ben.Http();
        var listed = Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("/api/rooms"))!);
        Assert.Equal(("member", "public", 2), (Str(listed, "role"), Str(listed, "visibility"), listed.GetProperty("members").GetInt32()));

        await using var socket = await amy.ConnectAsync();
        var welcome = Assert.Single((await socket.WelcomeAsync()).GetProperty("rooms").EnumerateArray());
        Assert.Equal(("owner", "what next", "public", 2), (Str(welcome, "role"), Str(welcome, "topic"), Str(welcome, "visibility"), welcome.GetProperty("members").GetInt32()));
    }

    [Theory]
    [InlineData("""{"name":"x","visibility":"secret"}""")]
    [InlineData("""{"name":"x","visibility":1}""")]
    [InlineData("""{"name":"x","topic":5}""")]
    [InlineData("""{"name":"x","topic":"line\nbreak"}""")]
    public async Task A_room_with_a_bad_topic_or_visibility_is_not_created(string body)
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync();
        using var http = amy.Http();
        await Problem.AssertAsync(await http.PostAsync("/api/rooms", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.Empty((await http.GetFromJsonAsync<JsonElement[]>("/api/rooms"))!);
    }

    [Fact]
    public async Task A_private_room_is_invisible_and_unjoinable_without_an_invitation()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");
        var room = await CreateAsync(amy, "hideout", visibility: "private");

        using (var http = ben.Http())
        {
            Assert.DoesNotContain((await http.GetFromJsonAsync<JsonElement[]>("/api/rooms/public"))!, r => Str(r, "id") == room);
        }

        await Expect(HttpStatusCode.Forbidden, Join(ben, room));
        await Expect(HttpStatusCode.Forbidden, Send(ben, HttpMethod.Get, $"/api/rooms/{room}/messages"));
        await Expect(HttpStatusCode.Forbidden, Invite(cal, room, "ben")); // not a member: cannot invite

        await using var benSocket = await ben.ConnectWelcomedAsync();
        await Expect(HttpStatusCode.NoContent, Invite(amy, room, "BEN"));
        var added = await benSocket.NextAsync(f => Str(f, "type") == "room", "room frame");
        Assert.Equal(("added", room, "hideout", "private", "member", 2), (Str(added, "event"), Str(added, "id"), Str(added, "name"),
            Str(added, "visibility"), Str(added, "role"), added.GetProperty("members").GetInt32()));
        var joined = await benSocket.NextAsync("member");
        Assert.Equal(("ben", "joined"), (Str(joined, "username"), Str(joined, "event")));

        // Invited, ben is a member: joining again is fine, and an invitation of a member changes nothing.
        Assert.Equal("member", Str(await Json(await Join(ben, room), HttpStatusCode.OK), "role"));
        await Expect(HttpStatusCode.NoContent, Invite(amy, room, "ben"));
        await Expect(HttpStatusCode.NotFound, Invite(amy, room, "nobody"));
        await Expect(HttpStatusCode.NotFound, Invite(amy, "rnope", "ben"));
        await Expect(HttpStatusCode.Forbidden, Invite(ben, room, "cal")); // a member who does not moderate
        Assert.Equal(["amy:owner", "ben:member"], await MembersAsync(ben, room));
    }

    [Fact]
    public async Task Patch_changes_name_topic_and_visibility_and_every_member_hears_of_it_with_their_role()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben) = await server.UsersNamedAsync("amy", "ben");
        var room = await RoomAsync(amy, "draft", ben);
        await using var benSocket = await ben.ConnectWelcomedAsync();

        await Expect(HttpStatusCode.Forbidden, Send(ben, HttpMethod.Patch, $"/api/rooms/{room}", new { name = "mine now" }));
        await Expect(HttpStatusCode.BadRequest, Send(amy, HttpMethod.Patch, $"/api/rooms/{room}", new { name = "  " }));
        await Expect(HttpStatusCode.BadRequest, Send(amy, HttpMethod.Patch, $"/api/rooms/{room}", new { visibility = "hidden" }));
        await Expect(HttpStatusCode.NotFound, Send(amy, HttpMethod.Patch, "/api/rooms/rnope", new { name = "x" }));

        using var patched = await Send(amy, HttpMethod.Patch, $"/api/rooms/{room}", new { name = "final", topic = "decided", visibility = "private" });
        var body = await Json(patched, HttpStatusCode.OK);
        Assert.Equal(("final", "decided", "private", "owner", 2), (Str(body, "name"), Str(body, "topic"), Str(body, "visibility"), Str(body, "role"),
            body.GetProperty("members").GetInt32()));

        var updated = await benSocket.NextAsync(f => Str(f, "type") == "room", "room frame");
        Assert.Equal(("updated", "final", "decided", "private", "member"), (Str(updated, "event"), Str(updated, "name"), Str(updated, "topic"),
            Str(updated, "visibility"), Str(updated, "role")));

        // A moderator may change it too.
        await Expect(HttpStatusCode.NoContent, Role(amy, room, "ben", "moderator"));
        Assert.Equal("moderator", Str(await Json(await Send(ben, HttpMethod.Patch, $"/api/rooms/{room}", new { topic = "" }), HttpStatusCode.OK), "role"));
    }

    [Fact]
    public async Task A_kicked_member_gets_the_member_frame_then_removed_and_nothing_from_the_room_after_it()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben) = await server.UsersNamedAsync("amy", "ben");
        var room = await RoomAsync(amy, "club", ben);
        var other = await RoomAsync(amy, "other", ben);
        await using var amySocket = await amy.ConnectWelcomedAsync();
        await using var benSocket = await ben.ConnectWelcomedAsync();

        await Expect(HttpStatusCode.NoContent, Kick(amy, room, "ben"));
        var member = await benSocket.NextAsync(f => Str(f, "type") is "member" or "room" or "message", "the kick");
        Assert.Equal(("member", "ben", "kicked", room), (Str(member, "type"), Str(member, "username"), Str(member, "event"), Str(member, "room")));
        var removed = await benSocket.NextAsync(f => Str(f, "type") is "room" or "message", "room removed");
        Assert.Equal(("room", "removed", room), (Str(removed, "type"), Str(removed, "event"), Str(removed, "id")));
        var seen = await amySocket.NextAsync("member");
        Assert.Equal(("ben", "kicked"), (Str(seen, "username"), Str(seen, "event")));

        // The room goes on without ben: a message there, then one in a room ben still shares; ben sees only the second.
        await amy.PostMessageAsync(room, "after the kick");
        await amy.PostMessageAsync(other, "marker");
        var next = await benSocket.NextAsync("message");
        Assert.Equal((other, "marker"), (Str(next, "room"), Str(next, "text")));
        Assert.Empty(benSocket.Messages(room));
        await Expect(HttpStatusCode.Forbidden, Send(ben, HttpMethod.Get, $"/api/rooms/{room}/messages"));
        Assert.Equal(["amy:owner"], await MembersAsync(amy, room));

        // Kicked is not banned: ben may join again.
        await Expect(HttpStatusCode.NotFound, Kick(amy, room, "ben"));
        Assert.Equal(HttpStatusCode.OK, (await Join(ben, room)).StatusCode);
    }

    [Fact]
    public async Task A_moderator_cannot_kick_the_owner_or_another_moderator_and_members_cannot_kick_at_all()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, cal, dee) = await server.UsersNamedAsync("amy", "ben", "cal", "dee");
        var room = await RoomAsync(amy, "room", ben, cal, dee);

        await Expect(HttpStatusCode.Forbidden, Kick(dee, room, "cal"));
        await Expect(HttpStatusCode.NoContent, Role(amy, room, "ben", "moderator"));
        await Expect(HttpStatusCode.NoContent, Role(amy, room, "cal", "moderator"));
        await Expect(HttpStatusCode.Forbidden, Kick(ben, room, "amy"));
        await Expect(HttpStatusCode.Forbidden, Kick(ben, room, "cal"));
        await Expect(HttpStatusCode.Forbidden, Ban(ben, room, "amy"));
        await Expect(HttpStatusCode.Forbidden, Ban(ben, room, "cal"));
        await Expect(HttpStatusCode.BadRequest, Kick(ben, room, "ben"));
        await Expect(HttpStatusCode.NotFound, Kick(ben, room, "nobody"));
        await Expect(HttpStatusCode.NoContent, Kick(ben, room, "dee"));   // a moderator kicks a member
        await Expect(HttpStatusCode.NoContent, Kick(amy, room, "cal"));   // the owner kicks a moderator
        Assert.Equal(["amy:owner", "ben:moderator"], await MembersAsync(amy, room));
    }

    [Fact]
    public async Task A_banned_user_can_neither_rejoin_nor_be_invited_until_unbanned_and_one_who_never_joined_can_be_banned()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");
        var room = await RoomAsync(amy, "club", ben);
        await using var benSocket = await ben.ConnectWelcomedAsync();

        await Expect(HttpStatusCode.Forbidden, Ban(ben, room, "amy"));
        await Expect(HttpStatusCode.NoContent, Ban(amy, room, "ben"));
        // ben's own join (the arrange) may still reach the socket live when its fan-out trails the connect: skip it.
        var member = await benSocket.NextAsync(f => Str(f, "type") == "member" && Str(f, "event") != "joined", "a member frame other than the join");
        Assert.Equal(("ben", "banned"), (Str(member, "username"), Str(member, "event")));
        var removed = await benSocket.NextAsync("room");
        Assert.Equal(("removed", room), (Str(removed, "event"), Str(removed, "id")));

        await Expect(HttpStatusCode.Forbidden, Join(ben, room));
        await Expect(HttpStatusCode.Forbidden, Invite(amy, room, "ben"));
        await Expect(HttpStatusCode.NoContent, Ban(amy, room, "cal"));   // never joined
        await Expect(HttpStatusCode.Forbidden, Join(cal, room));
        await Expect(HttpStatusCode.NotFound, Ban(amy, room, "nobody"));
        using (var bans = await Send(amy, HttpMethod.Get, $"/api/rooms/{room}/bans"))
        {
            Assert.Equal(["ben", "cal"], (await Json(bans, HttpStatusCode.OK)).EnumerateArray().Select(b => b.GetString()));
        }

        await Expect(HttpStatusCode.Forbidden, Send(ben, HttpMethod.Delete, $"/api/rooms/{room}/bans/ben"));
        await Expect(HttpStatusCode.NoContent, Send(amy, HttpMethod.Delete, $"/api/rooms/{room}/bans/ben"));
        Assert.Equal(HttpStatusCode.OK, (await Join(ben, room)).StatusCode);
        await Expect(HttpStatusCode.Forbidden, Join(cal, room));
    }

    [Fact]
    public async Task Only_the_owner_changes_roles_and_handing_over_makes_the_old_owner_a_moderator()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");
        var room = await RoomAsync(amy, "room", ben, cal);
        await using var calSocket = await cal.ConnectWelcomedAsync();
        await using var benSocket = await ben.ConnectWelcomedAsync();

        await Expect(HttpStatusCode.BadRequest, Role(amy, room, "ben", "admin"));
        await Expect(HttpStatusCode.BadRequest, Role(amy, room, "amy", "member"));
        await Expect(HttpStatusCode.NotFound, Role(amy, room, "nobody", "moderator"));
        await Expect(HttpStatusCode.NoContent, Role(amy, room, "ben", "moderator"));
        await Expect(HttpStatusCode.Forbidden, Role(ben, room, "cal", "moderator")); // a moderator is not the owner

        var seen = await calSocket.NextAsync("member");
        Assert.Equal(("ben", "role", "moderator"), (Str(seen, "username"), Str(seen, "event"), Str(seen, "role")));
        var mine = await benSocket.NextAsync("room");
        Assert.Equal(("updated", "moderator"), (Str(mine, "event"), Str(mine, "role")));

        await Expect(HttpStatusCode.NoContent, Role(amy, room, "cal", "owner"));
        Assert.Equal(["amy:moderator", "ben:moderator", "cal:owner"], await MembersAsync(amy, room));
        var calRoom = await calSocket.NextAsync("room");
        Assert.Equal(("updated", "owner"), (Str(calRoom, "event"), Str(calRoom, "role")));
        await Expect(HttpStatusCode.Forbidden, Role(amy, room, "ben", "member"));
        await Expect(HttpStatusCode.NoContent, Role(cal, room, "ben", "member"));
        Assert.Equal(["amy:moderator", "ben:member", "cal:owner"], await MembersAsync(ben, room));
    }

    [Fact]
    public async Task When_the_owner_leaves_the_longest_standing_moderator_becomes_owner()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");
        var room = await RoomAsync(amy, "room", ben, cal);
        await Expect(HttpStatusCode.NoContent, Role(amy, room, "cal", "moderator"));
        await Expect(HttpStatusCode.NoContent, Send(amy, HttpMethod.Post, $"/api/rooms/{room}/leave"));
        Assert.Equal(["ben:member", "cal:owner"], await MembersAsync(ben, room));
    }

    [Fact]
    public async Task Members_lists_usernames_display_names_roles_and_who_is_online_to_members_only()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");
        var room = await RoomAsync(amy, "room", ben);
        await using var socket = await amy.ConnectWelcomedAsync();

        using var r = await Send(ben, HttpMethod.Get, $"/api/rooms/{room}/members");
        var members = (await Json(r, HttpStatusCode.OK)).EnumerateArray().ToArray();
        Assert.Equal(("amy", "amy", "owner", true), (Str(members[0], "username"), Str(members[0], "display_name"), Str(members[0], "role"),
            members[0].GetProperty("online").GetBoolean()));
        Assert.Equal(("ben", "member", false), (Str(members[1], "username"), Str(members[1], "role"), members[1].GetProperty("online").GetBoolean()));
        await Expect(HttpStatusCode.Forbidden, Send(cal, HttpMethod.Get, $"/api/rooms/{room}/members"));
        await Expect(HttpStatusCode.NotFound, Send(cal, HttpMethod.Get, "/api/rooms/rnope/members"));
    }

    [Fact]
    public async Task Deleting_a_room_takes_its_history_and_tells_the_members_and_only_the_owner_or_an_admin_may()
    {
        await using var server = await TestServer.StartAsync("Natter:Admins:0=BOSS");
        var (amy, ben, boss) = await server.UsersNamedAsync("amy", "ben", "boss");
        var room = await RoomAsync(amy, "doomed", ben);
        var second = await CreateAsync(amy, "second");
        await amy.PostMessageAsync(room, "last words");
        await using var benSocket = await ben.ConnectWelcomedAsync();

        await Expect(HttpStatusCode.NoContent, Role(amy, room, "ben", "moderator"));
        await Expect(HttpStatusCode.Forbidden, Send(ben, HttpMethod.Delete, $"/api/rooms/{room}"));  // a moderator may not
        await Expect(HttpStatusCode.NoContent, Send(amy, HttpMethod.Delete, $"/api/rooms/{room}"));
        var deleted = await benSocket.NextAsync(f => Str(f, "type") == "room" && Str(f, "event") == "deleted", "room deleted");
        Assert.Equal((room, true), (Str(deleted, "id"), deleted.GetProperty("deleted").GetBoolean()));

        await Expect(HttpStatusCode.NotFound, Send(amy, HttpMethod.Get, $"/api/rooms/{room}/messages"));
        await Expect(HttpStatusCode.NotFound, Join(ben, room));
        await Expect(HttpStatusCode.NotFound, Send(amy, HttpMethod.Delete, $"/api/rooms/{room}"));
        using (var http = ben.Http())
        {
            Assert.Empty((await http.GetFromJsonAsync<JsonElement[]>("/api/rooms"))!);
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => benSocket.RequestAsync(new { type = "send", room, text = "hello?", client_id = "late" }));
        Assert.Contains("not_found", refused.Message, StringComparison.Ordinal);

        // A server admin may delete any group room, member or not.
        await Expect(HttpStatusCode.NoContent, Send(boss, HttpMethod.Delete, $"/api/rooms/{second}"));
    }

    [Fact]
    public async Task In_a_direct_room_everyone_is_a_member_and_renaming_kicking_banning_inviting_and_deleting_are_refused()
    {
        await using var server = await TestServer.StartAsync("Natter:Admins:0=amy");
        var (amy, ben, _) = await server.UsersNamedAsync("amy", "ben", "cal");
        using var opened = await Send(amy, HttpMethod.Post, "/api/direct", new { username = "ben" });
        var room = Str(await Json(opened, HttpStatusCode.Created), "id");

        using (var http = amy.Http())
        {
            var listed = Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("/api/rooms"))!);
            Assert.Equal(("member", "private", 2), (Str(listed, "role"), Str(listed, "visibility"), listed.GetProperty("members").GetInt32()));
        }

        await Expect(HttpStatusCode.Forbidden, Send(amy, HttpMethod.Patch, $"/api/rooms/{room}", new { name = "ours" }));
        await Expect(HttpStatusCode.Forbidden, Kick(amy, room, "ben"));
        await Expect(HttpStatusCode.Forbidden, Ban(amy, room, "ben"));
        await Expect(HttpStatusCode.Forbidden, Invite(amy, room, "cal"));
        await Expect(HttpStatusCode.Forbidden, Role(amy, room, "ben", "moderator"));
        await Expect(HttpStatusCode.Forbidden, Send(amy, HttpMethod.Delete, $"/api/rooms/{room}"));  // even for an admin
        Assert.Equal(["amy:member", "ben:member"], await MembersAsync(ben, room));
    }

    [Fact]
    public async Task A_room_at_its_member_limit_refuses_joins_and_invitations_with_limit()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:MaxRoomMembers=2");
        var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");
        var room = await RoomAsync(amy, "room", ben);
        await Expect(HttpStatusCode.Conflict, Join(cal, room));
        await Expect(HttpStatusCode.Conflict, Invite(amy, room, "cal"));
    }

    [Fact]
    public async Task A_moderator_deletes_a_members_message_and_a_member_cannot()
    {
        await using var server = await TestServer.StartAsync();
        var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");
        var room = await RoomAsync(amy, "room", ben, cal);
        var seq = await cal.PostMessageAsync(room, "spam");

        await Expect(HttpStatusCode.Forbidden, Send(ben, HttpMethod.Delete, $"/api/rooms/{room}/messages/{seq}"));
        await Expect(HttpStatusCode.NoContent, Role(amy, room, "ben", "moderator"));
        using var deleted = await Send(ben, HttpMethod.Delete, $"/api/rooms/{room}/messages/{seq}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
    }

    [Fact]
    public async Task Deleting_a_room_frees_the_files_its_messages_listed()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await Named(server, "amy");
        var room = await CreateAsync(amy, "album");
        var file = await amy.UploadOkAsync("photo.bin", [1, 2, 3]);
        var url = Str(file, "url");
        await (await amy.SendAsync(room, new { text = "look", files = new[] { Str(file, "id") } })).JsonAsync(HttpStatusCode.Created);
        using (var before = await amy.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await Expect(HttpStatusCode.NoContent, Send(amy, HttpMethod.Delete, $"/api/rooms/{room}"));
        using var after = await amy.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }
}
