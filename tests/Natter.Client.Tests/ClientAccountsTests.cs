using System.Net;

namespace Natter.Client.Tests;

/// <summary>The client library's account calls (protocol v2 §5) against a real server.</summary>
public sealed class ClientAccountsTests
{
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<NatterClient> LoggedInAsync(Uri baseUri, string username)
    {
        var client = new NatterClient(baseUri, new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(50) });
        Assert.True(await client.RegisterAsync(username, Password, Ct).WaitAsync(Step, Ct));
        await client.LoginAsync(username, Password, Ct).WaitAsync(Step, Ct);
        return client;
    }

    [Fact]
    public async Task A_display_name_set_by_one_client_is_what_another_sees_in_the_user_list()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await LoggedInAsync(server.BaseUri, "alice");
        await using var bob = await LoggedInAsync(server.BaseUri, "bob");

        Assert.Equal(new MyProfile("alice", "alice", null, false), await alice.GetProfileAsync(Ct).WaitAsync(Step, Ct));
        Assert.Equal(new UserProfile("alice", "Alice A.", null), await alice.SetDisplayNameAsync("Alice A.", Ct).WaitAsync(Step, Ct));
        var users = await bob.GetUsersAsync(cancellationToken: Ct).WaitAsync(Step, Ct);
        Assert.Equal("Alice A.", users.Single(u => u.Profile.Username == "alice").Profile.DisplayName);
        Assert.Null((await alice.SetAvatarAsync(null, Ct).WaitAsync(Step, Ct)).AvatarUrl);
        var bad = await Assert.ThrowsAsync<NatterHttpException>(() => alice.SetDisplayNameAsync(" ", Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task A_password_change_disconnects_the_other_client_for_good_and_sessions_can_be_listed_and_revoked()
    {
        await using var server = await TestServer.StartAsync();
        await using var laptop = await LoggedInAsync(server.BaseUri, "carol");
        await using var phone = new NatterClient(server.BaseUri, new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(50) });
        await phone.LoginAsync("carol", Password, Ct).WaitAsync(Step, Ct);
        var closed = new TaskCompletionSource<DisconnectInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        phone.Disconnected += d => closed.TrySetResult(d);
        await phone.ConnectAsync(Ct).WaitAsync(Step, Ct);

        var sessions = await laptop.GetSessionsAsync(Ct).WaitAsync(Step, Ct);
        Assert.Equal(2, sessions.Count);
        Assert.Single(sessions, s => s.Current);

        var wrong = await Assert.ThrowsAsync<NatterHttpException>(() => laptop.ChangePasswordAsync("not it", "a new password", Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        await laptop.ChangePasswordAsync(Password, "a new password", Ct).WaitAsync(Step, Ct);

        var info = await closed.Task.WaitAsync(Step, Ct);
        Assert.Equal(4001, info.CloseStatus);
        Assert.False(info.WillReconnect);
        Assert.Single(await laptop.GetSessionsAsync(Ct).WaitAsync(Step, Ct));

        await using var tablet = new NatterClient(server.BaseUri);
        await tablet.LoginAsync("carol", "a new password", Ct).WaitAsync(Step, Ct);
        var tabletSession = (await laptop.GetSessionsAsync(Ct).WaitAsync(Step, Ct)).Single(s => !s.Current);
        await laptop.RevokeSessionAsync(tabletSession.Id, Ct).WaitAsync(Step, Ct);
        var gone = await Assert.ThrowsAsync<NatterHttpException>(() => tablet.GetProfileAsync(Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, gone.StatusCode);
    }

    [Fact]
    public async Task A_blocked_user_gets_forbidden_on_a_direct_send_until_unblocked()
    {
        await using var server = await TestServer.StartAsync();
        await using var dana = await LoggedInAsync(server.BaseUri, "dana");
        await using var eve = await LoggedInAsync(server.BaseUri, "eve");
        await eve.ConnectAsync(Ct).WaitAsync(Step, Ct);
        await eve.SendDirectAsync("dana", "hi", cancellationToken: Ct).WaitAsync(Step, Ct);

        await dana.BlockAsync("eve", Ct).WaitAsync(Step, Ct);
        Assert.Equal(["eve"], await dana.GetBlockedAsync(Ct).WaitAsync(Step, Ct));
        var refused = await Assert.ThrowsAsync<NatterException>(() => eve.SendDirectAsync("dana", "hello?", cancellationToken: Ct).WaitAsync(Step, Ct));
        Assert.Equal("forbidden", refused.Code);

        await dana.UnblockAsync("eve", Ct).WaitAsync(Step, Ct);
        Assert.Empty(await dana.GetBlockedAsync(Ct).WaitAsync(Step, Ct));
        await eve.SendDirectAsync("dana", "hello again", cancellationToken: Ct).WaitAsync(Step, Ct);
    }

    [Fact]
    public async Task An_admin_finds_and_disables_a_user_whose_client_then_stops_for_good_with_4003()
    {
        await using var server = await TestServer.StartAsync("Natter:Admins:0=root");
        await using var root = await LoggedInAsync(server.BaseUri, "root");
        await using var frank = await LoggedInAsync(server.BaseUri, "frank");
        var closed = new TaskCompletionSource<DisconnectInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        frank.Disconnected += d => closed.TrySetResult(d);
        await frank.ConnectAsync(Ct).WaitAsync(Step, Ct);

        Assert.True((await root.GetProfileAsync(Ct).WaitAsync(Step, Ct)).Admin);
        var notAdmin = await Assert.ThrowsAsync<NatterHttpException>(() => frank.FindUsersAsync("root", Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);

        var found = Assert.Single(await root.FindUsersAsync("fra", Ct).WaitAsync(Step, Ct));
        Assert.Equal(("frank", false), (found.Profile.Username, found.Disabled));
        Assert.True((await root.SetUserDisabledAsync("frank", true, Ct).WaitAsync(Step, Ct)).Disabled);

        var info = await closed.Task.WaitAsync(Step, Ct);
        Assert.Equal(4003, info.CloseStatus);
        Assert.False(info.WillReconnect);
        var login = await Assert.ThrowsAsync<NatterHttpException>(() => frank.LoginAsync("frank", Password, Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);

        Assert.False((await root.SetUserDisabledAsync("frank", false, Ct).WaitAsync(Step, Ct)).Disabled);
        await frank.LoginAsync("frank", Password, Ct).WaitAsync(Step, Ct);
    }
}
