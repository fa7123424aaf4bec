using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Rooms;

/// <summary>Membership changes: each updates the store, this node's cache, and tells every node through the bus.</summary>
public sealed class RoomService(IChatStore store, RoomDirectory rooms, IMessageBus bus)
{
    public async Task<Room> CreateAsync(Caller caller, string name, CancellationToken ct)
    {
        var room = await store.CreateRoomAsync(name, caller.UserId, ct);
        rooms.Put(room, caller.UserId);
        await bus.PublishAsync(new MemberEvent(room.Id, caller.UserId, caller.Username, Joined: true, LastSeq: 0), ct);
        return room;
    }

    public async Task<(JoinOutcome Outcome, Room? Room)> JoinAsync(Caller caller, string roomId, CancellationToken ct)
    {
        var outcome = await store.JoinAsync(roomId, caller.UserId, ct);
        if (outcome is JoinOutcome.NotFound)
        {
            return (outcome, null);
        }

        var entry = await rooms.GetAsync(roomId, ct);
        if (outcome is JoinOutcome.Joined)
        {
            rooms.ApplyJoin(roomId, caller.UserId);
            var lastSeq = await store.GetLastSeqAsync(roomId, ct);
            await bus.PublishAsync(new MemberEvent(roomId, caller.UserId, caller.Username, Joined: true, lastSeq), ct);
        }

        return (outcome, entry?.Room);
    }

    /// <summary>False when the room does not exist.</summary>
    public async Task<bool> LeaveAsync(Caller caller, string roomId, CancellationToken ct)
    {
        var (entry, isMember) = await rooms.CheckMemberAsync(roomId, caller.UserId, ct);
        if (entry is null || !await store.LeaveAsync(roomId, caller.UserId, ct))
        {
            return false;
        }

        if (isMember)
        {
            // This node stops treating the leaver as a member at once; other nodes when the event reaches them.
            rooms.ApplyLeave(roomId, caller.UserId);
            await bus.PublishAsync(new MemberEvent(roomId, caller.UserId, caller.Username, Joined: false, LastSeq: 0), ct);
        }

        return true;
    }

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
            await bus.PublishAsync(new DirectRoomEvent(result.Room.Id, caller.UserId, caller.Username, other.Id, other.Username, lastSeq), ct);
        }

        return (result.Room, other.Username, result.Created);
    }
}
