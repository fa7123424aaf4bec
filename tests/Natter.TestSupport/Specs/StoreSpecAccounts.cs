using Natter.Server.Storage;

namespace Natter.TestSupport.Specs;

/// <summary>Accounts of protocol v2 §5 as every store keeps them: profiles, session details, status and blocks.</summary>
public abstract partial class StoreSpec
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static byte[] TokenHash(int seed) => Enumerable.Range(seed, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public async Task A_profile_shows_the_username_until_a_display_name_and_avatar_are_set()
    {
        var id = await UserAsync("alice");
        Assert.Equal(new Profile(id, "alice", "alice", null, "active"), await Store.FindProfileAsync("alice", default).WaitAsync(Timeout));

        await Store.SetDisplayNameAsync(id, "Alice Ünal 🦊", default).WaitAsync(Timeout);
        var picture = await FileAsync(id, "me.png");
        Assert.True(await Store.SetAvatarAsync(id, picture.Id, default).WaitAsync(Timeout));
        Assert.Equal(new Profile(id, "alice", "Alice Ünal 🦊", picture.Id, "active"), await Store.FindProfileAsync("alice", default).WaitAsync(Timeout));
        Assert.Equal("Alice Ünal 🦊", Assert.Single(await Store.FindProfilesAsync([id, 999_999], default).WaitAsync(Timeout)).DisplayName);

        await Store.SetAvatarAsync(id, null, default).WaitAsync(Timeout);
        Assert.Null((await Store.FindProfileAsync("alice", default).WaitAsync(Timeout))!.AvatarFile);
        Assert.Null(await Store.FindProfileAsync("nobody", default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_session_is_live_until_deleted_or_its_user_disabled()
    {
        var id = await UserAsync("alice");
        var first = await Store.StartSessionAsync(id, TokenHash(1), DateTimeOffset.UtcNow.AddDays(1), null, default).WaitAsync(Timeout);
        var second = await Store.StartSessionAsync(id, TokenHash(2), DateTimeOffset.UtcNow.AddDays(1), null, default).WaitAsync(Timeout);
        Assert.True(await Store.IsSessionLiveAsync(first, default).WaitAsync(Timeout));

        await Store.DeleteSessionAsync(first, default).WaitAsync(Timeout);
        Assert.False(await Store.IsSessionLiveAsync(first, default).WaitAsync(Timeout));
        Assert.True(await Store.IsSessionLiveAsync(second, default).WaitAsync(Timeout));

        Assert.True(await Store.SetStatusAsync(id, UserStatuses.Disabled, default).WaitAsync(Timeout));
        Assert.False(await Store.IsSessionLiveAsync(second, default).WaitAsync(Timeout));
        Assert.False(await Store.IsSessionLiveAsync(999_999, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_disabled_user_is_left_out_of_the_user_list_and_its_sessions_no_longer_authenticate()
    {
        var alice = await UserAsync("alice");
        await UserAsync("bob");
        await Store.CreateSessionAsync(alice, TokenHash(1), Now.AddHours(1), default).WaitAsync(Timeout);

        Assert.True(await Store.SetStatusAsync(alice, UserStatuses.Disabled, default).WaitAsync(Timeout));
        Assert.False(await Store.SetStatusAsync(999_999, UserStatuses.Disabled, default).WaitAsync(Timeout));
        Assert.Equal(["bob"], (await Store.ListProfilesAsync(10, default).WaitAsync(Timeout)).Select(p => p.Username));
        Assert.Null(await Store.FindSessionAsync(TokenHash(1), Now, default).WaitAsync(Timeout));
        Assert.Equal("disabled", (await Store.FindUserAsync("alice", default).WaitAsync(Timeout))!.Status);

        await Store.SetStatusAsync(alice, UserStatuses.Active, default).WaitAsync(Timeout);
        Assert.NotNull(await Store.FindSessionAsync(TokenHash(1), Now, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task User_search_matches_username_or_display_name_in_any_case_with_like_wildcards_taken_literally()
    {
        var a = await UserAsync("ann_1");
        await UserAsync("bert");
        var c = await UserAsync("cy");
        await Store.SetDisplayNameAsync(c, "Annabel 100%", default).WaitAsync(Timeout);
        await Store.SetStatusAsync(a, UserStatuses.Disabled, default).WaitAsync(Timeout);

        Assert.Equal(["ann_1", "cy"], (await Store.SearchProfilesAsync("ANN", 10, default).WaitAsync(Timeout)).Select(p => p.Username));
        Assert.Equal(["ann_1"], (await Store.SearchProfilesAsync("_", 10, default).WaitAsync(Timeout)).Select(p => p.Username));
        Assert.Equal(["cy"], (await Store.SearchProfilesAsync("0%", 10, default).WaitAsync(Timeout)).Select(p => p.Username));
        Assert.Equal(["ann_1", "bert"], (await Store.SearchProfilesAsync("", 2, default).WaitAsync(Timeout)).Select(p => p.Username));
        Assert.Equal("disabled", (await Store.SearchProfilesAsync("ann_", 10, default).WaitAsync(Timeout))[0].Status);
    }

    [Fact]
    public async Task Sessions_list_their_client_and_times_and_are_revoked_one_or_all_but_one()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var s1 = await Store.StartSessionAsync(alice, TokenHash(1), Now.AddHours(1), "Browser/1", default).WaitAsync(Timeout);
        var s2 = await Store.StartSessionAsync(alice, TokenHash(2), Now.AddHours(1), null, default).WaitAsync(Timeout);
        var s3 = await Store.StartSessionAsync(alice, TokenHash(3), Now.AddHours(1), "Phone/2", default).WaitAsync(Timeout);
        var old = await Store.StartSessionAsync(alice, TokenHash(4), Now.AddMinutes(-1), "Old/1", default).WaitAsync(Timeout);
        var bobs = await Store.StartSessionAsync(bob, TokenHash(5), Now.AddHours(1), "Bob/1", default).WaitAsync(Timeout);

        var listed = await Store.ListSessionsAsync(alice, Now, default).WaitAsync(Timeout);
        Assert.Equal([s3, s2, s1], listed.Select(s => s.Id));
        Assert.Equal(["Phone/2", null, "Browser/1"], listed.Select(s => s.UserAgent));
        Assert.All(listed, s => Assert.Equal(s.CreatedAt, s.LastSeen));

        var later = DateTimeOffset.FromUnixTimeMilliseconds(listed[0].CreatedAt + 60_000);
        await Store.TouchSessionAsync(s1, later, default).WaitAsync(Timeout);
        await Store.TouchSessionAsync(s1, later.AddMinutes(-5), default).WaitAsync(Timeout);
        Assert.Equal(later.ToUnixTimeMilliseconds(), (await Store.ListSessionsAsync(alice, Now, default).WaitAsync(Timeout)).Single(s => s.Id == s1).LastSeen);

        Assert.False(await Store.DeleteSessionOfUserAsync(alice, bobs, default).WaitAsync(Timeout));
        Assert.True(await Store.DeleteSessionOfUserAsync(alice, s2, default).WaitAsync(Timeout));
        Assert.False(await Store.DeleteSessionOfUserAsync(alice, s2, default).WaitAsync(Timeout));

        Assert.Equal([s3, old], await Store.DeleteSessionsOfUserAsync(alice, s1, default).WaitAsync(Timeout));
        Assert.Equal([s1], (await Store.ListSessionsAsync(alice, Now, default).WaitAsync(Timeout)).Select(s => s.Id));
        Assert.NotNull(await Store.FindSessionAsync(TokenHash(5), Now, default).WaitAsync(Timeout));
        Assert.Equal([s1], await Store.DeleteSessionsOfUserAsync(alice, null, default).WaitAsync(Timeout));
        Assert.Null(await Store.FindSessionAsync(TokenHash(1), Now, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Blocks_are_one_way_idempotent_and_listed_by_username()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carl = await UserAsync("carl");
        Assert.True(await Store.BlockAsync(alice, carl, default).WaitAsync(Timeout));
        Assert.True(await Store.BlockAsync(alice, bob, default).WaitAsync(Timeout));
        Assert.False(await Store.BlockAsync(alice, bob, default).WaitAsync(Timeout));

        Assert.True(await Store.IsBlockedAsync(alice, bob, default).WaitAsync(Timeout));
        Assert.False(await Store.IsBlockedAsync(bob, alice, default).WaitAsync(Timeout));
        Assert.Equal(["bob", "carl"], await Store.ListBlockedAsync(alice, default).WaitAsync(Timeout));
        Assert.Equal(2, await Store.CountBlockedAsync(alice, default).WaitAsync(Timeout));
        Assert.Empty(await Store.ListBlockedAsync(bob, default).WaitAsync(Timeout));

        Assert.True(await Store.UnblockAsync(alice, bob, default).WaitAsync(Timeout));
        Assert.False(await Store.UnblockAsync(alice, bob, default).WaitAsync(Timeout));
        Assert.False(await Store.IsBlockedAsync(alice, bob, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_new_password_hash_replaces_the_old()
    {
        var alice = await UserAsync("alice");
        await Store.SetPasswordHashAsync(alice, "new-hash", default).WaitAsync(Timeout);
        Assert.Equal("new-hash", (await Store.FindUserAsync("alice", default).WaitAsync(Timeout))!.PasswordHash);
    }
}
