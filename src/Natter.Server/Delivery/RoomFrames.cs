using System.Text.Json;
using Natter.Server.Bus;

namespace Natter.Server.Delivery;

/// <summary>The frames of rooms with owners (protocol v2 §4): `room` with an event, and `member` kicked, banned and role.</summary>
public static partial class Frames
{
    /// <summary>
    /// {type:"room", event, id, name, kind, last_seq, topic, visibility, members, role}: event "added", "updated" or
    /// "removed". Name: for a direct room, the other member's username.
    /// </summary>
    public static byte[] Room(string roomEvent, RoomView view, string role, string? name = null) => Write((roomEvent, view, role, name), static (w, s) =>
    {
        w.WriteString("type"u8, "room"u8);
        w.WriteString("event"u8, s.roomEvent);
        WriteRoom(w, s.view, s.role, s.name);
    });

    /// <summary>The room object's fields (shared by `room` frames).</summary>
    private static void WriteRoom(Utf8JsonWriter w, RoomView view, string role, string? name)
    {
        w.WriteString("id"u8, view.Id);
        w.WriteString("name"u8, name ?? view.Name);
        w.WriteString("kind"u8, view.Kind);
        w.WriteNumber("last_seq"u8, view.LastSeq);
        w.WriteString("topic"u8, view.Topic);
        w.WriteString("visibility"u8, view.Visibility);
        w.WriteNumber("members"u8, view.Members);
        w.WriteString("role"u8, role);
    }

    /// <summary>{type:"room", event:"deleted", id, deleted:true}.</summary>
    public static byte[] RoomDeleted(string id) => Write(id, static (w, id) =>
    {
        w.WriteString("type"u8, "room"u8);
        w.WriteString("event"u8, "deleted"u8);
        w.WriteString("id"u8, id);
        w.WriteBoolean("deleted"u8, true);
    });

    /// <summary>{type:"member", room, username, event}: "joined", "left", "kicked" or "banned".</summary>
    public static byte[] Member(string room, string username, string memberEvent) => Write((room, username, memberEvent), static (w, s) =>
    {
        w.WriteString("type"u8, "member"u8);
        w.WriteString("room"u8, s.room);
        w.WriteString("username"u8, s.username);
        w.WriteString("event"u8, s.memberEvent);
    });

    /// <summary>{type:"member", room, username, event:"role", role}: a member's role changed.</summary>
    public static byte[] MemberRoleChanged(string room, string username, string role) => Write((room, username, role), static (w, s) =>
    {
        w.WriteString("type"u8, "member"u8);
        w.WriteString("room"u8, s.room);
        w.WriteString("username"u8, s.username);
        w.WriteString("event"u8, "role"u8);
        w.WriteString("role"u8, s.role);
    });
}
