using Natter.Server.Storage;

namespace Natter.Server.Bus;

/// <summary>The room object every member shares (protocol v2 §4), without the receiving user's role and read state.</summary>
public sealed record RoomView(string Id, string Name, string Kind, string Topic, string Visibility, int Members, long LastSeq)
{
    public static RoomView Of(RoomInfo r) => new(r.Id, r.Name, r.Kind, r.Topic, r.Visibility, r.Members, r.LastSeq);
}

public sealed record MemberRole(long UserId, string Username, string Role);

/// <summary>
/// A room's name, topic or visibility changed (RoleChanges empty): every member's sockets get a `room` frame
/// "updated" with their own role (Staff lists the owner and moderators; everyone else is a member). Or roles changed:
/// every member gets a `member` frame "role" per change, and each changed user a `room` frame "updated".
/// </summary>
public sealed record RoomUpdated(RoomView View, IReadOnlyList<MemberRole> Staff, IReadOnlyList<MemberRole> RoleChanges) : BusEvent;

/// <summary>A room was deleted: its members' sockets get `room` "deleted", and every node forgets the room.</summary>
public sealed record RoomDeleted(string Room, IReadOnlyList<long> Members) : BusEvent;
