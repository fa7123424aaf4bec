using Natter.Server.Bus;

namespace Natter.Server.Delivery;

// Presence: announcements of one user are ordered by version; a snapshot after a fault corrects what sockets were told.
public sealed partial class Fanout
{
    private readonly PresenceMemory _told = new(options.Value.Limits.TrackedRooms);

    public IReadOnlyCollection<string> UsersTold() => _told.Usernames();

    /// <summary>True when the announcement is newer than what the sockets were told of this user (and remembers it).</summary>
    private bool IsNewest(PresenceEvent p)
    {
        var known = _told.TryGet(p.Username, out var told);
        if (p.Version == 0)
        {
            // This node's own view, while the cluster could not be asked: told as is, corrected later.
            _told.Set(p.Username, new PresenceMemory.Told(p.UserId, known ? told.Version : 0, p.Online, Unversioned: true));
            return true;
        }

        if (known && p.Version <= told.Version)
        {
            return false;
        }

        _told.Set(p.Username, new PresenceMemory.Told(p.UserId, p.Version, p.Online, Unversioned: false));
        return true;
    }

    /// <summary>Tells the sockets the cluster's answer for every user whose last word here is older or was only this node's view.</summary>
    private void Correct(PresenceSnapshot snapshot)
    {
        foreach (var (username, (version, online)) in snapshot.Users)
        {
            if (!_told.TryGet(username, out var told) || version < told.Version || (version == told.Version && !told.Unversioned))
            {
                continue;
            }

            _told.Set(username, told with { Version = version, Online = online, Unversioned = false });
            if (online != told.Online)
            {
                ToRoommates(told.UserId, username, online, rooms.CachedRoomsOf(told.UserId));
            }
        }
    }

    private void ToRoommates(long userId, string username, bool online, IReadOnlyList<string> roomIds)
    {
        var frame = Frames.Presence(username, online);
        var told = new HashSet<Connection>();
        foreach (var roomId in roomIds)
        {
            var room = rooms.Peek(roomId);
            if (room is null)
            {
                continue;
            }

            foreach (var member in room.Members)
            {
                if (member == userId)
                {
                    continue;
                }

                foreach (var c in sockets.Of(member))
                {
                    if (told.Add(c))
                    {
                        c.SendEvent(frame);
                    }
                }
            }
        }
    }
}
