using Natter.Server.Bus;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Server.Delivery;

// Membership and room changes: the room cache changes in the same turn of the loop as the frames that tell of it.
public sealed partial class Fanout
{
    private async ValueTask ApplyMemberAsync(MemberEvent me, CancellationToken ct)
    {
        if (me.Joined)
        {
            rooms.ApplyJoin(me.Room, me.UserId);
            if (rooms.Peek(me.Room) is null && sockets.Of(me.UserId).Length > 0)
            {
                await rooms.GetAsync(me.Room, ct); // first local interest in this room: load it with its members
            }

            var added = me.View is { } view ? Frames.Room("added", view, me.Role) : null;
            foreach (var c in sockets.Of(me.UserId))
            {
                c.Track(me.Room, me.LastSeq);
                if (added is not null)
                {
                    c.SendEvent(added);
                }
            }

            ToMembers(me.Room, Frames.Member(me.Room, me.Username, joined: true));
        }
        else
        {
            // The leaver's sockets hear of it too, then stop receiving the room (a removed user's also get "removed").
            // The cache changes in the same turn of the loop, so nothing of the room is queued to them after it.
            var frame = me.Reason is { } reason ? Frames.Member(me.Room, me.Username, reason) : Frames.Member(me.Room, me.Username, joined: false);
            var removed = me.Reason is not null && me.View is { } view ? Frames.Room("removed", view, me.Role) : null;
            foreach (var c in sockets.Of(me.UserId))
            {
                c.SendEvent(frame);
                if (removed is not null)
                {
                    c.SendEvent(removed);
                }
            }

            rooms.ApplyLeave(me.Room, me.UserId);
            ToMembers(me.Room, frame);
        }
    }

    private void ApplyDirect(DirectRoomEvent d)
    {
        rooms.Put(new Room(d.Room, "", RoomKinds.Direct), d.UserA, d.UserB);
        foreach (var (user, other) in new[] { (d.UserA, d.UsernameB), (d.UserB, d.UsernameA) })
        {
            var frame = Frames.Room("added", new RoomView(d.Room, "", RoomKinds.Direct, "", RoomVisibility.Private, 2, d.LastSeq), RoomRoles.Member, other);
            foreach (var c in sockets.Of(user))
            {
                c.Track(d.Room, d.LastSeq);
                c.SendEvent(frame);
            }
        }
    }

    private void ApplyRoomUpdated(RoomUpdated u)
    {
        var room = rooms.Peek(u.View.Id);
        if (room is null)
        {
            return;
        }

        rooms.Rename(u.View.Id, u.View.Name);
        var staff = u.Staff.ToDictionary(m => m.UserId, m => m.Role);
        if (u.RoleChanges.Count == 0)
        {
            // One serialization per role (at most three), each member's sockets get theirs.
            var byRole = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var userId in room.Members)
            {
                var role = staff.GetValueOrDefault(userId, RoomRoles.Member);
                foreach (var c in sockets.Of(userId))
                {
                    c.SendEvent(byRole.TryGetValue(role, out var f) ? f : byRole[role] = Frames.Room("updated", u.View, role));
                }
            }

            return;
        }

        foreach (var change in u.RoleChanges)
        {
            ToMembers(u.View.Id, Frames.MemberRoleChanged(u.View.Id, change.Username, change.Role));
            var frame = Frames.Room("updated", u.View, change.Role);
            foreach (var c in sockets.Of(change.UserId))
            {
                c.SendEvent(frame);
            }
        }
    }

    private void ApplyRoomDeleted(RoomDeleted d)
    {
        var frame = Frames.RoomDeleted(d.Room);
        var members = (rooms.Peek(d.Room)?.Members ?? []).Union(d.Members);
        foreach (var userId in members)
        {
            foreach (var c in sockets.Of(userId))
            {
                c.SendEvent(frame);
            }
        }

        // Nothing of the room is delivered after this: its cache entry, its seq and any gap read waiting on it go.
        rooms.Forget(d.Room);
        if (_reading.Remove(d.Room, out var read))
        {
            _held -= read.Waiting.Count;
        }
    }
}
