using Natter.Server.Storage;

namespace Natter.TestSupport.Specs;

/// <summary>
/// Rooms with owners (protocol v2 §4) as every IChatStore keeps them: roles per membership, topic and visibility,
/// bans, deleting a room with its history, and the membership change log.
/// </summary>
public abstract partial class StoreSpec
{
    private const int NoLimit = 1000;

    private async Task<AddMemberOutcome> AddAsync(string room, long user, bool invited = false, int max = NoLimit) =>
        await Store.AddMemberAsync(room, user, invited, max, default).WaitAsync(Timeout);

    private async Task<string[]> RolesAsync(string room) =>
        [.. (await Store.ListMembersWithRolesAsync(room, default).WaitAsync(Timeout)).Select(m => $"{m.Username}:{m.Role}")];

    [Fact]
    public async Task The_creator_owns_a_new_room_and_members_are_listed_with_roles_in_join_order()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateGroupRoomAsync("plans", "what we do next", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        Assert.Equal(AddMemberOutcome.Added, await AddAsync(room.Id, bob));
        Assert.Equal(AddMemberOutcome.AlreadyMember, await AddAsync(room.Id, bob));

        Assert.Equal(["alice:owner", "bob:member"], await RolesAsync(room.Id));
        Assert.Equal(RoomRoles.Owner, await Store.GetRoleAsync(room.Id, alice, default).WaitAsync(Timeout));
        Assert.Null(await Store.GetRoleAsync(room.Id, 999_999, default).WaitAsync(Timeout));
        Assert.Equal(new RoomInfo(room.Id, "plans", RoomKinds.Group, "what we do next", RoomVisibility.Public, 2, 0),
            await Store.GetRoomInfoAsync(room.Id, default).WaitAsync(Timeout));

        var mine = Assert.Single(await Store.ListRoomsOfUserAsync(bob, default).WaitAsync(Timeout));
        Assert.Equal(("what we do next", RoomVisibility.Public, RoomRoles.Member, 2), (mine.Topic, mine.Visibility, mine.Role, mine.Members));

        // The v1 call makes its creator the owner too.
        var old = await Store.CreateRoomAsync("v1", bob, default).WaitAsync(Timeout);
        Assert.Equal(RoomRoles.Owner, await Store.GetRoleAsync(old.Id, bob, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_new_member_starts_read_up_to_the_rooms_last_seq()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateGroupRoomAsync("news", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        await Store.AppendAsync([Msg(room.Id, alice, "m1"), Msg(room.Id, alice, "m2")], default).WaitAsync(Timeout);
        await AddAsync(room.Id, bob);
        var mine = Assert.Single(await Store.ListRoomsOfUserAsync(bob, default).WaitAsync(Timeout));
        Assert.Equal((2L, 2L), (mine.LastSeq, mine.ReadSeq));
    }

    [Fact]
    public async Task A_private_room_is_not_listed_and_takes_an_invitation()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateGroupRoomAsync("secret", "", RoomVisibility.Private, alice, default).WaitAsync(Timeout);
        var open = await Store.CreateGroupRoomAsync("open", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);

        Assert.Equal([open.Id], (await Store.ListPublicRoomsAsync(100, default).WaitAsync(Timeout)).Select(r => r.Id));
        Assert.Equal(AddMemberOutcome.Private, await AddAsync(room.Id, bob));
        Assert.Null(await Store.GetRoleAsync(room.Id, bob, default).WaitAsync(Timeout));
        Assert.Equal(AddMemberOutcome.Added, await AddAsync(room.Id, bob, invited: true));
        Assert.Equal(AddMemberOutcome.AlreadyMember, await AddAsync(room.Id, bob));

        // Made public, it is listed and open to anyone.
        await Store.UpdateRoomAsync(room.Id, null, null, RoomVisibility.Public, default).WaitAsync(Timeout);
        Assert.Contains(room.Id, (await Store.ListPublicRoomsAsync(100, default).WaitAsync(Timeout)).Select(r => r.Id));
    }

    [Fact]
    public async Task A_banned_user_is_removed_and_can_neither_join_nor_be_invited_until_unbanned()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var room = await Store.CreateGroupRoomAsync("club", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        await AddAsync(room.Id, bob);

        Assert.True(await Store.BanAsync(room.Id, bob, alice, default).WaitAsync(Timeout));
        Assert.False(await Store.BanAsync(room.Id, carol, alice, default).WaitAsync(Timeout)); // never joined: banned all the same
        Assert.Equal(["alice:owner"], await RolesAsync(room.Id));
        Assert.Equal(AddMemberOutcome.Banned, await AddAsync(room.Id, bob));
        Assert.Equal(AddMemberOutcome.Banned, await AddAsync(room.Id, bob, invited: true));
        Assert.Equal(AddMemberOutcome.Banned, await AddAsync(room.Id, carol));
        Assert.True(await Store.IsBannedAsync(room.Id, carol, default).WaitAsync(Timeout));
        Assert.Equal(["bob", "carol"], await Store.ListBansAsync(room.Id, default).WaitAsync(Timeout));

        Assert.True(await Store.UnbanAsync(room.Id, bob, default).WaitAsync(Timeout));
        Assert.False(await Store.UnbanAsync(room.Id, bob, default).WaitAsync(Timeout));
        Assert.Equal(AddMemberOutcome.Added, await AddAsync(room.Id, bob));
    }

    [Fact]
    public async Task A_full_room_refuses_the_next_member_and_a_direct_room_takes_nobody()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var room = await Store.CreateGroupRoomAsync("small", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        Assert.Equal(AddMemberOutcome.Added, await AddAsync(room.Id, bob, max: 2));
        Assert.Equal(AddMemberOutcome.Full, await AddAsync(room.Id, carol, max: 2));
        Assert.Equal(AddMemberOutcome.NotFound, await AddAsync("r-nothing", carol));

        var direct = await Store.GetOrCreateDirectRoomAsync(alice, bob, default).WaitAsync(Timeout);
        Assert.Equal(AddMemberOutcome.DirectRoom, await AddAsync(direct.Room.Id, carol, invited: true));
        var listed = (await Store.ListRoomsOfUserAsync(alice, default).WaitAsync(Timeout)).Single(r => r.Id == direct.Room.Id);
        Assert.Equal((RoomRoles.Member, RoomVisibility.Private, 2), (listed.Role, listed.Visibility, listed.Members));
    }

    [Fact]
    public async Task Roles_change_the_room_is_handed_over_and_an_owner_who_leaves_is_succeeded()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var dave = await UserAsync("dave");
        var room = await Store.CreateGroupRoomAsync("crew", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        await AddAsync(room.Id, bob);
        await AddAsync(room.Id, carol);
        await AddAsync(room.Id, dave);

        Assert.True(await Store.SetRoleAsync(room.Id, carol, RoomRoles.Moderator, default).WaitAsync(Timeout));
        Assert.False(await Store.SetRoleAsync(room.Id, 999_999, RoomRoles.Moderator, default).WaitAsync(Timeout));
        Assert.True(await Store.HandOverAsync(room.Id, alice, bob, default).WaitAsync(Timeout));
        Assert.Equal(["alice:moderator", "bob:owner", "carol:moderator", "dave:member"], await RolesAsync(room.Id));

        // The owner leaves: the longest-standing moderator takes over.
        var (removed, successor) = await Store.RemoveMemberAsync(room.Id, bob, default).WaitAsync(Timeout);
        Assert.True(removed);
        Assert.Equal(new MemberInfo(alice, "alice", RoomRoles.Owner), successor);
        Assert.Equal(["alice:owner", "carol:moderator", "dave:member"], await RolesAsync(room.Id));

        // A member who leaves changes nobody's role; leaving twice removes nothing.
        Assert.Equal((true, (MemberInfo?)null), await Store.RemoveMemberAsync(room.Id, dave, default).WaitAsync(Timeout));
        Assert.Equal((false, (MemberInfo?)null), await Store.RemoveMemberAsync(room.Id, dave, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_hand_over_to_a_non_member_changes_no_role_and_a_role_or_ban_set_again_still_stands()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var room = await Store.CreateGroupRoomAsync("crew", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        await AddAsync(room.Id, bob);

        Assert.False(await Store.HandOverAsync(room.Id, alice, carol, default).WaitAsync(Timeout));
        Assert.Equal(["alice:owner", "bob:member"], await RolesAsync(room.Id));

        // Setting the role a member already has is no failure (the row exists, though nothing in it changes).
        Assert.True(await Store.SetRoleAsync(room.Id, bob, RoomRoles.Moderator, default).WaitAsync(Timeout));
        Assert.True(await Store.SetRoleAsync(room.Id, bob, RoomRoles.Moderator, default).WaitAsync(Timeout));
        Assert.Equal(RoomRoles.Moderator, await Store.GetRoleAsync(room.Id, bob, default).WaitAsync(Timeout));

        // A second ban of the same user is kept once and removes nobody.
        Assert.True(await Store.BanAsync(room.Id, bob, alice, default).WaitAsync(Timeout));
        Assert.False(await Store.BanAsync(room.Id, bob, alice, default).WaitAsync(Timeout));
        Assert.Equal(["bob"], await Store.ListBansAsync(room.Id, default).WaitAsync(Timeout));
        Assert.Equal(["alice:owner"], await RolesAsync(room.Id));
    }

    [Fact]
    public async Task A_room_changes_name_topic_and_visibility_and_a_deleted_room_takes_its_history_with_it()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateGroupRoomAsync("draft", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        await AddAsync(room.Id, bob);

        var renamed = await Store.UpdateRoomAsync(room.Id, "final", "the topic", null, default).WaitAsync(Timeout);
        Assert.Equal(("final", "the topic", RoomVisibility.Public), (renamed!.Name, renamed.Topic, renamed.Visibility));
        Assert.Null(await Store.UpdateRoomAsync("r-nothing", "x", null, null, default).WaitAsync(Timeout));

        await Store.AppendAsync([Msg(room.Id, alice, "m1", "soon gone"), Msg(room.Id, bob, "m2")], default).WaitAsync(Timeout);
        await Store.AppendAsync([React(room.Id, bob, 1, "👍", true, "r1")], default).WaitAsync(Timeout);
        await Store.BanAsync(room.Id, await UserAsync("carol"), alice, default).WaitAsync(Timeout);

        Assert.Equal([alice, bob], (await Store.DeleteRoomAsync(room.Id, default).WaitAsync(Timeout)).Order());
        Assert.Null(await Store.FindRoomAsync(room.Id, default).WaitAsync(Timeout));
        Assert.Null(await Store.GetRoomInfoAsync(room.Id, default).WaitAsync(Timeout));
        Assert.Empty(await Store.ReadEventsAsync(room.Id, 0, long.MaxValue, 100, true, default).WaitAsync(Timeout));
        Assert.Empty(await Store.ListMembersAsync(room.Id, default).WaitAsync(Timeout));
        Assert.Empty(await Store.ListRoomsOfUserAsync(bob, default).WaitAsync(Timeout));
        Assert.Empty(await Store.ListPublicRoomsAsync(100, default).WaitAsync(Timeout));
        Assert.Empty(await Store.ListBansAsync(room.Id, default).WaitAsync(Timeout));
        Assert.Equal(AddMemberOutcome.NotFound, await AddAsync(room.Id, bob));
        Assert.Empty(await Store.DeleteRoomAsync(room.Id, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Events_committed_after_another_node_deleted_their_room_are_refused_and_the_rest_of_the_batch_is_stored()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var doomed = await Store.CreateGroupRoomAsync("doomed", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        var other = await Store.CreateGroupRoomAsync("other", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        await AddAsync(doomed.Id, bob);
        await AddAsync(other.Id, bob);
        await Store.AppendAsync([Msg(doomed.Id, bob, "before")], default).WaitAsync(Timeout);

        // The senders' membership was checked; then another node deletes the room before this node's group commit
        // takes the room's lock, and the commit finds the deleted marker.
        var otherNode = await NewStoreAsync();
        Assert.Equal([alice, bob], (await otherNode.DeleteRoomAsync(doomed.Id, default).WaitAsync(Timeout)).Order());
        var lastSeq = await Store.GetLastSeqAsync(doomed.Id, default).WaitAsync(Timeout);

        var results = await AppendAsync(
            Msg(other.Id, alice, "a1"),
            Msg(doomed.Id, bob, "late", "words no one may read"),
            React(doomed.Id, alice, 1, "👍", true, "r1"),
            Msg(other.Id, bob, "b1"),
            Msg(doomed.Id, bob, "before"));
        Assert.Equal(
            [AppendOutcome.Stored, AppendOutcome.RoomGone, AppendOutcome.RoomGone, AppendOutcome.Stored, AppendOutcome.RoomGone],
            results.Select(r => r.Outcome));
        Assert.Equal([1L, 2L], results.Where(r => r.Outcome == AppendOutcome.Stored).Select(r => r.Event!.Seq));

        // Nothing of the refused events is stored, the deleted room's log stays empty, and the commits go on.
        Assert.Empty(await Store.ReadEventsAsync(doomed.Id, 0, long.MaxValue, 100, true, default).WaitAsync(Timeout));
        Assert.Equal(lastSeq, await Store.GetLastSeqAsync(doomed.Id, default).WaitAsync(Timeout));
        Assert.Equal(["a1", "b1", "c1"], await ClientIdsAfterAsync(other.Id, Msg(other.Id, alice, "c1")));
        Assert.Equal(AppendOutcome.RoomGone, (await AppendAsync(Msg(doomed.Id, alice, "again")))[0].Outcome);
        await ChatStores.CloseAsync(otherNode);
    }

    private async Task<string[]> ClientIdsAfterAsync(string room, NewEvent e)
    {
        Assert.Equal(AppendOutcome.Stored, (await AppendAsync(e))[0].Outcome);
        return [.. (await Store.ReadEventsAsync(room, 0, long.MaxValue, 100, true, default).WaitAsync(Timeout)).Select(m => m.ClientId)];
    }

    [Fact]
    public async Task The_owner_and_moderators_may_delete_anyones_message_and_members_only_their_own()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var room = await Store.CreateGroupRoomAsync("mod", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        await AddAsync(room.Id, bob);
        await AddAsync(room.Id, carol);
        await Store.AppendAsync([Msg(room.Id, carol, "m1"), Msg(room.Id, carol, "m2"), Msg(room.Id, alice, "m3")], default).WaitAsync(Timeout);

        Assert.Equal(AppendOutcome.Forbidden, (await AppendAsync(Delete(room.Id, bob, 1, "d1")))[0].Outcome);
        await Store.SetRoleAsync(room.Id, bob, RoomRoles.Moderator, default).WaitAsync(Timeout);
        Assert.Equal(AppendOutcome.Stored, (await AppendAsync(Delete(room.Id, bob, 1, "d2")))[0].Outcome);
        Assert.Equal(AppendOutcome.Stored, (await AppendAsync(Delete(room.Id, alice, 2, "d3")))[0].Outcome);
        Assert.Equal(AppendOutcome.Forbidden, (await AppendAsync(Delete(room.Id, carol, 3, "d4")))[0].Outcome);
    }

    [Fact]
    public async Task The_change_log_returns_changes_after_an_id_in_order_and_forgets_old_ones()
    {
        var first = await Store.AppendRoomChangeAsync("r1", "{\"a\":1}", 1000, default).WaitAsync(Timeout);
        var second = await Store.AppendRoomChangeAsync("r2", "{\"a\":2}", 2000, default).WaitAsync(Timeout);
        var third = await Store.AppendRoomChangeAsync("r1", "{\"a\":3}", 3000, default).WaitAsync(Timeout);
        Assert.True(first < second && second < third);

        Assert.Equal([second, third], (await Store.ReadRoomChangesAsync(first, 0, 10, default).WaitAsync(Timeout)).Select(c => c.Id));
        Assert.Equal([new RoomChangeRow(third, "r1", "{\"a\":3}", 3000)], await Store.ReadRoomChangesAsync(0, 2500, 10, default).WaitAsync(Timeout));
        Assert.Equal([first], (await Store.ReadRoomChangesAsync(0, 0, 1, default).WaitAsync(Timeout)).Select(c => c.Id));

        Assert.Equal(2, await Store.PruneRoomChangesAsync(2500, default).WaitAsync(Timeout));
        Assert.Equal([third], (await Store.ReadRoomChangesAsync(0, 0, 10, default).WaitAsync(Timeout)).Select(c => c.Id));
    }
}
