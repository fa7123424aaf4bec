using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Rooms;

/// <summary>
/// Protocol v2 §4: settings, invitations, kicks, bans, roles and deleting a room. Who may act is decided here from
/// the store's roles (never from the cache); every change goes through <see cref="RoomChanges"/> to every node.
/// Direct rooms have no owner: everything here but the member list is refused there.
/// </summary>
public sealed class RoomModeration(IChatStore store, RoomDirectory rooms, RoomService service, RoomChanges changes, IOptions<NatterOptions> options)
{
    private readonly HashSet<string> _admins = new(options.Value.Admins, StringComparer.OrdinalIgnoreCase);
    private readonly int _maxMembers = options.Value.Limits.MaxRoomMembers;

    public bool IsAdmin(Caller caller) => _admins.Contains(caller.Username);

    /// <summary>The room and the caller's role (null: not a member), or a refusal: no room, or a direct room where that is refused.</summary>
    private async Task<(RoomInfo? Room, string? Role, RoomRefusal? Refusal)> LoadAsync(Caller caller, string roomId, string? directRefusal, CancellationToken ct)
    {
        var room = await store.GetRoomInfoAsync(roomId, ct);
        if (room is null)
        {
            return (null, null, RoomRefusal.NoRoom);
        }

        if (room.Kind == RoomKinds.Direct && directRefusal is not null)
        {
            return (room, null, RoomRefusal.Forbidden(directRefusal));
        }

        return (room, await store.GetRoleAsync(roomId, caller.UserId, ct), null);
    }

    private static RoomRefusal? NeedModerator(string? role) =>
        role is null ? RoomRefusal.Forbidden("You are not a member of this room.")
        : !RoomRoles.Moderates(role) ? RoomRefusal.Forbidden("Only the room's owner or a moderator may do this.")
        : null;

    private async Task<(User? User, RoomRefusal? Refusal)> FindUserAsync(string? username, CancellationToken ct)
    {
        var name = Validation.NormalizeUsername(username);
        var user = name is null ? null : await store.FindUserAsync(name, ct);
        return user is null ? (null, RoomRefusal.NotFound($"No user '{username}'.")) : (user, null);
    }

    /// <summary>PATCH: owner or moderator; members get "updated". The room as the caller sees it.</summary>
    public async Task<(MyRoom? Room, RoomRefusal? Refusal)> UpdateAsync(Caller caller, string roomId, string? name, string? topic, string? visibility, CancellationToken ct)
    {
        var (room, role, refusal) = await LoadAsync(caller, roomId, "A direct room has no name, topic or visibility to change.", ct);
        if ((refusal ?? NeedModerator(role)) is { } refused)
        {
            return (null, refused);
        }

        var updated = await store.UpdateRoomAsync(roomId, name, topic, visibility, ct);
        if (updated is null)
        {
            return (null, RoomRefusal.NoRoom);
        }

        if ((updated.Name, updated.Topic, updated.Visibility) != (room!.Name, room.Topic, room.Visibility))
        {
            rooms.Rename(roomId, updated.Name);
            await changes.PublishAsync(roomId, new RoomUpdated(RoomView.Of(updated), await service.StaffAsync(roomId, ct), []), ct);
        }

        return (await service.RoomOfAsync(caller.UserId, roomId, ct) ?? RoomService.ToMyRoom(updated, role!), null);
    }

    /// <summary>The members with roles (members only).</summary>
    public async Task<(IReadOnlyList<MemberInfo>? Members, RoomRefusal? Refusal)> MembersAsync(Caller caller, string roomId, CancellationToken ct)
    {
        var (_, role, refusal) = await LoadAsync(caller, roomId, null, ct);
        if (refusal is not null)
        {
            return (null, refusal);
        }

        return role is null ? (null, RoomRefusal.Forbidden("You are not a member of this room.")) : (await store.ListMembersWithRolesAsync(roomId, ct), null);
    }

    /// <summary>Bans (owner and moderators only see them).</summary>
    public async Task<(IReadOnlyList<string>? Bans, RoomRefusal? Refusal)> BansAsync(Caller caller, string roomId, CancellationToken ct)
    {
        var (_, role, refusal) = await LoadAsync(caller, roomId, "A direct room has no bans.", ct);
        return (refusal ?? NeedModerator(role)) is { } refused ? (null, refused) : (await store.ListBansAsync(roomId, ct), null);
    }

    /// <summary>Owner or moderator makes a user a member at once. Already a member: nothing to do.</summary>
    public async Task<RoomRefusal?> InviteAsync(Caller caller, string roomId, string? username, CancellationToken ct)
    {
        var (_, role, refusal) = await LoadAsync(caller, roomId, "Nobody can be invited to a direct room.", ct);
        if ((refusal ?? NeedModerator(role)) is { } refused)
        {
            return refused;
        }

        var (user, missing) = await FindUserAsync(username, ct);
        if (missing is not null)
        {
            return missing;
        }

        var outcome = await store.AddMemberAsync(roomId, user!.Id, invited: true, _maxMembers, ct);
        if (RoomService.Refuse(outcome, "invite") is { } no)
        {
            return no;
        }

        if (outcome is AddMemberOutcome.Added)
        {
            await service.AnnounceAddedAsync(roomId, user.Id, user.Username, ct);
        }

        return null;
    }

    /// <summary>
    /// Who may remove whom: the owner anyone else; a moderator only members. Nobody removes themselves this way
    /// (leave is for that).
    /// </summary>
    private static RoomRefusal? MayRemove(Caller caller, string callerRole, User target, string? targetRole)
    {
        if (target.Id == caller.UserId)
        {
            return RoomRefusal.BadRequest("To leave the room, use leave.");
        }

        if (targetRole == RoomRoles.Owner)
        {
            return RoomRefusal.Forbidden("Nobody can remove the room's owner.");
        }

        return callerRole != RoomRoles.Owner && targetRole == RoomRoles.Moderator
            ? RoomRefusal.Forbidden("A moderator cannot remove another moderator.")
            : null;
    }

    public async Task<RoomRefusal?> KickAsync(Caller caller, string roomId, string? username, CancellationToken ct)
    {
        var (room, role, refusal) = await LoadAsync(caller, roomId, "Nobody can be kicked from a direct room.", ct);
        if ((refusal ?? NeedModerator(role)) is { } refused)
        {
            return refused;
        }

        var (user, missing) = await FindUserAsync(username, ct);
        if (missing is not null)
        {
            return missing;
        }

        var targetRole = await store.GetRoleAsync(roomId, user!.Id, ct);
        if (targetRole is null)
        {
            return RoomRefusal.NotFound($"'{user.Username}' is not a member of this room.");
        }

        if (MayRemove(caller, role!, user, targetRole) is { } no)
        {
            return no;
        }

        var (removed, _) = await store.RemoveMemberAsync(roomId, user.Id, ct);
        if (removed)
        {
            await AnnounceRemovedAsync(room!, user, "kicked", ct);
        }

        return null;
    }

    public async Task<RoomRefusal?> BanAsync(Caller caller, string roomId, string? username, CancellationToken ct)
    {
        var (room, role, refusal) = await LoadAsync(caller, roomId, "Nobody can be banned from a direct room.", ct);
        if ((refusal ?? NeedModerator(role)) is { } refused)
        {
            return refused;
        }

        var (user, missing) = await FindUserAsync(username, ct);
        if (missing is not null)
        {
            return missing;
        }

        if (MayRemove(caller, role!, user!, await store.GetRoleAsync(roomId, user!.Id, ct)) is { } no)
        {
            return no;
        }

        if (await store.BanAsync(roomId, user.Id, caller.UserId, ct))
        {
            await AnnounceRemovedAsync(room!, user, "banned", ct);
        }

        return null;
    }

    public async Task<RoomRefusal?> UnbanAsync(Caller caller, string roomId, string? username, CancellationToken ct)
    {
        var (_, role, refusal) = await LoadAsync(caller, roomId, "A direct room has no bans.", ct);
        if ((refusal ?? NeedModerator(role)) is { } refused)
        {
            return refused;
        }

        var (user, missing) = await FindUserAsync(username, ct);
        if (missing is not null)
        {
            return missing;
        }

        await store.UnbanAsync(roomId, user!.Id, ct);
        return null;
    }

    /// <summary>This node stops delivering the room to the removed user at once; every other node when the event reaches it.</summary>
    private async Task AnnounceRemovedAsync(RoomInfo room, User user, string reason, CancellationToken ct)
    {
        rooms.ApplyLeave(room.Id, user.Id);
        var view = RoomView.Of(room with { Members = Math.Max(0, room.Members - 1) });
        await changes.PublishAsync(room.Id, new MemberEvent(room.Id, user.Id, user.Username, Joined: false, LastSeq: 0) { Reason = reason, View = view }, ct);
    }

    /// <summary>Owner only: moderator or member; "owner" hands the room over (the old owner becomes a moderator).</summary>
    public async Task<RoomRefusal?> SetRoleAsync(Caller caller, string roomId, string username, string? newRole, CancellationToken ct)
    {
        var (_, role, refusal) = await LoadAsync(caller, roomId, "A direct room has no roles.", ct);
        if (refusal is not null)
        {
            return refusal;
        }

        if (role != RoomRoles.Owner)
        {
            return RoomRefusal.Forbidden(role is null ? "You are not a member of this room." : "Only the room's owner may change roles.");
        }

        if (newRole is not (RoomRoles.Owner or RoomRoles.Moderator or RoomRoles.Member))
        {
            return RoomRefusal.BadRequest("role is \"owner\", \"moderator\" or \"member\".");
        }

        var (user, missing) = await FindUserAsync(username, ct);
        if (missing is not null)
        {
            return missing;
        }

        if (user!.Id == caller.UserId)
        {
            return RoomRefusal.BadRequest("The owner's role changes only by handing the room to another member.");
        }

        var current = await store.GetRoleAsync(roomId, user.Id, ct);
        if (current is null)
        {
            return RoomRefusal.NotFound($"'{user.Username}' is not a member of this room.");
        }

        if (current == newRole)
        {
            return null;
        }

        if (newRole == RoomRoles.Owner)
        {
            if (!await store.HandOverAsync(roomId, caller.UserId, user.Id, ct))
            {
                return RoomRefusal.NotFound($"'{user.Username}' is not a member of this room.");
            }

            await service.AnnounceRolesAsync(roomId,
                [new MemberRole(user.Id, user.Username, RoomRoles.Owner), new MemberRole(caller.UserId, caller.Username, RoomRoles.Moderator)], ct);
            return null;
        }

        if (!await store.SetRoleAsync(roomId, user.Id, newRole, ct))
        {
            return RoomRefusal.NotFound($"'{user.Username}' is not a member of this room.");
        }

        await service.AnnounceRolesAsync(roomId, [new MemberRole(user.Id, user.Username, newRole)], ct);
        return null;
    }

    /// <summary>Owner or server admin: the room and its history are gone; members get "deleted".</summary>
    public async Task<RoomRefusal?> DeleteAsync(Caller caller, string roomId, CancellationToken ct)
    {
        var (_, role, refusal) = await LoadAsync(caller, roomId, "A direct room cannot be deleted.", ct);
        if (refusal is not null)
        {
            return refusal;
        }

        if (role != RoomRoles.Owner && !IsAdmin(caller))
        {
            return RoomRefusal.Forbidden("Only the room's owner or a server admin may delete the room.");
        }

        var members = await store.DeleteRoomAsync(roomId, ct);
        rooms.Forget(roomId); // a send racing the deletion finds no room from now on
        await changes.PublishAsync(roomId, new RoomDeleted(roomId, members), ct);
        return null;
    }
}
