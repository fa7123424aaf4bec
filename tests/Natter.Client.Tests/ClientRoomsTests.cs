using System.Net;

namespace Natter.Client.Tests;

/// <summary>The client library's calls for rooms with owners (protocol v2 §4) and the `room` frame events, against a real server.</summary>
public sealed class ClientRoomsTests
{
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    private static async Task<NatterClient> LoggedInAsync(Uri baseUri, string username)
    {
        var client = new NatterClient(baseUri, new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(50) });
        Assert.True(await client.RegisterAsync(username, Password, Ct).WaitAsync(Step, Ct));
        await client.LoginAsync(username, Password, Ct).WaitAsync(Step, Ct);
        return client;
    }

    [Fact]
    public async Task Settings_members_invitations_roles_kicks_bans_and_deletion_work_and_raise_room_events()
    {
        await using var server = await TestServer.StartAsync();
        var amyName = NewName("amy");
        var benName = NewName("ben");
        await using var amy = await LoggedInAsync(server.BaseUri, amyName);
        await using var ben = await LoggedInAsync(server.BaseUri, benName);
        var changes = new List<RoomChange>();
        var members = new List<MemberEvent>();
        ben.RoomChanged += c => { lock (changes) { changes.Add(c); } };
        ben.MemberChanged += m => { lock (members) { members.Add(m); } };
        await ben.ConnectAsync(Ct).WaitAsync(Step, Ct);
        List<RoomChange> Changes() { lock (changes) { return [.. changes]; } }

        var room = await amy.CreateRoomAsync("hideout", "plans", "private", Ct).WaitAsync(Step, Ct);
        Assert.Equal(("hideout", "plans", "private", "owner", 1), (room.Name, room.Topic, room.Visibility, room.Role, room.Members));
        var refused = await Assert.ThrowsAsync<NatterHttpException>(() => ben.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        await amy.InviteAsync(room.Id, benName, Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => Changes().Any(c => c.Event == "added"), "ben hears he was added", cancellationToken: Ct);
        Assert.Equal((room.Id, "member", "private"), (Changes()[0].Room.Id, Changes()[0].Room.Role, Changes()[0].Room.Visibility));
        Assert.Contains(room.Id, ben.LastSeqs.Keys);

        var updated = await amy.UpdateRoomAsync(room.Id, topic: "new plans", cancellationToken: Ct).WaitAsync(Step, Ct);
        Assert.Equal(("hideout", "new plans", 2), (updated.Name, updated.Topic, updated.Members));
        await Wait.UntilAsync(() => Changes().Any(c => c.Event == "updated" && c.Room.Topic == "new plans"), "ben hears of the topic", cancellationToken: Ct);

        await amy.SetRoleAsync(room.Id, benName, "moderator", Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => Changes().Any(c => c.Event == "updated" && c.Room.Role == "moderator"), "ben hears he moderates", cancellationToken: Ct);
        var listed = await ben.GetMembersAsync(room.Id, Ct).WaitAsync(Step, Ct);
        Assert.Equal([(amyName, "owner"), (benName, "moderator")], listed.Select(m => (m.Username, m.Role)));
        Assert.True(listed.Single(m => m.Username == benName).Online);
        Assert.Equal(benName, listed.Single(m => m.Username == benName).DisplayName);

        await amy.SetRoleAsync(room.Id, benName, "member", Ct).WaitAsync(Step, Ct);
        await amy.BanAsync(room.Id, benName, Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => Changes().Any(c => c.Event == "removed"), "ben hears he was removed", cancellationToken: Ct);
        lock (members)
        {
            Assert.Contains(members, m => m.Event == "banned" && m.Username == benName);
            Assert.Contains(members, m => m.Event == "role" && m.Role == "moderator");
        }

        Assert.DoesNotContain(room.Id, ben.LastSeqs.Keys);
        Assert.Equal([benName], await amy.GetBansAsync(room.Id, Ct).WaitAsync(Step, Ct));
        await amy.UnbanAsync(room.Id, benName, Ct).WaitAsync(Step, Ct);
        await amy.InviteAsync(room.Id, benName, Ct).WaitAsync(Step, Ct);
        await amy.KickAsync(room.Id, benName, Ct).WaitAsync(Step, Ct);
        Assert.Empty(await amy.GetBansAsync(room.Id, Ct).WaitAsync(Step, Ct));

        await amy.InviteAsync(room.Id, benName, Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => Changes().Count(c => c.Event == "added") == 3, "ben is back", cancellationToken: Ct);
        await amy.DeleteRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => Changes().Any(c => c.Event == "deleted" && c.Room.Id == room.Id), "ben hears the room is gone", cancellationToken: Ct);
        Assert.DoesNotContain(room.Id, ben.LastSeqs.Keys);
        Assert.Empty(await ben.GetRoomsAsync(Ct).WaitAsync(Step, Ct));
    }
}
