using Microsoft.Extensions.Options;
using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Rooms;

/// <summary>A refused room call: the HTTP status, the protocol error code and a sentence for the user.</summary>
public sealed record RoomRefusal(int Status, string Code, string Detail)
{
    public static RoomRefusal BadRequest(string detail) => new(400, ErrorCodes.BadRequest, detail);
    public static RoomRefusal Forbidden(string detail) => new(403, ErrorCodes.Forbidden, detail);
    public static RoomRefusal NotFound(string detail) => new(404, ErrorCodes.NotFound, detail);
    public static RoomRefusal Limit(string detail) => new(409, ErrorCodes.Limit, detail);

    public static readonly RoomRefusal NoRoom = NotFound("No such room.");
}

/// <summary>
/// Membership changes: each updates the store, this node's cache, and tells every node through the bus (logged
/// first, see <see cref="RoomChanges"/>).
/// </summary>
public sealed class RoomService(IChatStore store, RoomDirectory rooms, RoomChanges changes, IOptions<NatterOptions> options)
{
    private readonly int _maxMembers = options.Value.Limits.MaxRoomMembers;

    public async Task<MyRoom> CreateAsync(Caller caller, string name, string topic, string visibility, CancellationToken ct)
    {
        var room = await store.CreateGroupRoomAsync(name, topic, visibility, caller.UserId, ct);
        rooms.Put(room, caller.UserId);
        var info = new RoomInfo(room.Id, name, RoomKinds.Group, topic, visibility, 1, 0);
        await changes.PublishAsync(room.Id, new MemberEvent(room.Id, caller.UserId, caller.Username, Joined: true, LastSeq: 0)
        {
            View = RoomView.Of(info),
            Role = RoomRoles.Owner,
        }, ct);
        return ToMyRoom(info, RoomRoles.Owner);
    }

    /// <summary>Joins a public group room (a private one needs an invitation); the room as the caller now sees it.</summary>
    public async Task<(MyRoom? Room, RoomRefusal? Refusal)> JoinAsync(Caller caller, string roomId, CancellationToken ct)
    {
        var outcome = await store.AddMemberAsync(roomId, caller.UserId, invited: false, _maxMembers, ct);
        if (Refuse(outcome, "join") is { } refusal)
        {
            return (null, refusal);
        }

        if (outcome is AddMemberOutcome.Added)
        {
            await AnnounceAddedAsync(roomId, caller.UserId, caller.Username, ct);
        }

        return (await RoomOfAsync(caller.UserId, roomId, ct), null);
    }

    /// <summary>The refusal for an outcome that is not Added or AlreadyMember.</summary>
    internal static RoomRefusal? Refuse(AddMemberOutcome outcome, string what) => outcome switch
    {
        AddMemberOutcome.NotFound => RoomRefusal.NoRoom,
        AddMemberOutcome.DirectRoom => RoomRefusal.Forbidden($"A direct room cannot be {(what == "join" ? "joined" : "entered by invitation")}."),
        AddMemberOutcome.Private => RoomRefusal.Forbidden("This room is private: it takes an invitation."),
        AddMemberOutcome.Banned => RoomRefusal.Forbidden(what == "join" ? "You are banned from this room." : "That user is banned from this room."),
        AddMemberOutcome.Full => RoomRefusal.Limit("The room has the most members allowed."),
        _ => null,
    };

    /// <summary>After a member was added: this node's cache, then every node (the new member's sockets get "added").</summary>
    internal async Task AnnounceAddedAsync(string roomId, long userId, string username, CancellationToken ct)
    {
        await rooms.GetAsync(roomId, ct);
        rooms.ApplyJoin(roomId, userId);
        var info = await store.GetRoomInfoAsync(roomId, ct);
        if (info is not null)
        {
            await changes.PublishAsync(roomId, new MemberEvent(roomId, userId, username, Joined: true, info.LastSeq) { View = RoomView.Of(info) }, ct);
        }
    }

    /// <summary>The room as this user sees it (their role and read state); null when not a member.</summary>
    public async Task<MyRoom?> RoomOfAsync(long userId, string roomId, CancellationToken ct) =>
        (await store.ListRoomsOfUserAsync(userId, ct)).FirstOrDefault(r => r.Id == roomId);

    public static MyRoom ToMyRoom(RoomInfo info, string role) =>
        new(info.Id, info.Name, info.Kind, info.LastSeq, 0) { Topic = info.Topic, Visibility = info.Visibility, Members = info.Members, Role = role };

    /// <summary>False when the room does not exist. When the owner leaves, the longest-standing moderator (else member) takes over.</summary>
    public async Task<bool> LeaveAsync(Caller caller, string roomId, CancellationToken ct)
    {
        var entry = await rooms.GetAsync(roomId, ct);
        if (entry is null)
        {
            return false;
        }

        var (removed, successor) = await store.RemoveMemberAsync(roomId, caller.UserId, ct);
        if (removed)
        {
            // This node stops treating the leaver as a member at once; other nodes when the event reaches them.
            rooms.ApplyLeave(roomId, caller.UserId);
            await changes.PublishAsync(roomId, new MemberEvent(roomId, caller.UserId, caller.Username, Joined: false, LastSeq: 0), ct);
            if (successor is not null)
            {
                await AnnounceRolesAsync(roomId, [new MemberRole(successor.UserId, successor.Username, successor.Role)], ct);
            }
        }

        return true;
    }

    /// <summary>Tells every node that roles changed (member "role" frames; "updated" to the changed users).</summary>
    internal async Task AnnounceRolesAsync(string roomId, IReadOnlyList<MemberRole> changed, CancellationToken ct)
    {
        var info = await store.GetRoomInfoAsync(roomId, ct);
        if (info is not null)
        {
            await changes.PublishAsync(roomId, new RoomUpdated(RoomView.Of(info), await StaffAsync(roomId, ct), changed), ct);
        }
    }

    /// <summary>The owner and moderators of a room.</summary>
    internal async Task<IReadOnlyList<MemberRole>> StaffAsync(string roomId, CancellationToken ct) =>
        [.. (await store.ListMembersWithRolesAsync(roomId, ct)).Where(m => m.Role != RoomRoles.Member).Select(m => new MemberRole(m.UserId, m.Username, m.Role))];

    /// <summary>The one direct room of the caller and another user; null when that user does not exist.</summary>
    public async Task<(Room Room, string OtherName, bool Created)?> OpenDirectAsync(Caller caller, string otherUsername, CancellationToken ct)
    {
        var name = Validation.NormalizeUsername(otherUsername);
        var other = name is null ? null : await store.FindUserAsync(name, ct);
        if (other is null)
        {
            return null;
        }

        var result = await store.GetOrCreateDirectRoomAsync(caller.UserId, other.Id, ct);
        rooms.Put(result.Room, caller.UserId, other.Id);
        if (result.Added)
        {
            var lastSeq = await store.GetLastSeqAsync(result.Room.Id, ct);
            await changes.PublishAsync(result.Room.Id,
                new DirectRoomEvent(result.Room.Id, caller.UserId, caller.Username, other.Id, other.Username, lastSeq), ct);
        }

        return (result.Room, other.Username, result.Created);
    }
}
