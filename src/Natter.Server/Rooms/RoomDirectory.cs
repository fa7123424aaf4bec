using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Natter.Server.Storage;

namespace Natter.Server.Rooms;

/// <summary>Whether any of these users has a socket open on this node (delivery knows; the cache asks before forgetting a room).</summary>
public interface ILocalInterest
{
    bool HasLocalSocket(IReadOnlyList<long> users);
}

/// <summary>
/// This node's cache of rooms and their members, loaded from the store on first use and kept current by
/// member events (local and from the bus). The send path and the fan-out read it without touching the store.
/// Bounded: past Limits.TrackedRooms rooms, rooms none of whose members has a socket on this node are forgotten
/// (they are loaded again on next use).
/// </summary>
public sealed class RoomDirectory(IChatStore store, ILocalInterest interest, IOptions<NatterOptions> options)
{
    /// <summary>An immutable snapshot of one room's membership; replaced whole on every change.</summary>
    public sealed class Entry(Room room, long[] members)
    {
        public Room Room { get; } = room;
        public long[] Members { get; } = members;
        private readonly HashSet<long> _set = [.. members];

        public bool IsMember(long userId) => _set.Contains(userId);

        public Entry With(long userId) => IsMember(userId) ? this : new Entry(Room, [.. Members, userId]);

        public Entry Without(long userId) => IsMember(userId) ? new Entry(Room, Members.Where(m => m != userId).ToArray()) : this;
    }

    private readonly ConcurrentDictionary<string, Entry> _rooms = new(StringComparer.Ordinal);
    private readonly int _capacity = options.Value.Limits.TrackedRooms;
    private int _trimming;

    /// <summary>Rooms cached now.</summary>
    public int Count => _rooms.Count;

    /// <summary>The room, from cache or store; null when it does not exist.</summary>
    public async ValueTask<Entry?> GetAsync(string roomId, CancellationToken ct)
    {
        if (_rooms.TryGetValue(roomId, out var entry))
        {
            return entry;
        }

        return await LoadAsync(roomId, ct);
    }

    /// <summary>The cached room only (the fan-out never waits on the store for rooms it has not seen).</summary>
    public Entry? Peek(string roomId) => _rooms.GetValueOrDefault(roomId);

    private async ValueTask<Entry?> LoadAsync(string roomId, CancellationToken ct)
    {
        var room = await store.FindRoomAsync(roomId, ct);
        if (room is null)
        {
            return null;
        }

        var members = await store.ListMembersAsync(roomId, ct);
        var entry = new Entry(room, members.Select(m => m.UserId).ToArray());
        _rooms[roomId] = entry;
        TrimIfFull();
        return entry;
    }

    /// <summary>
    /// Membership for the send path. A cached "no" is checked once more against the store, so a join that raced
    /// the cache load never refuses a member.
    /// </summary>
    public async ValueTask<(Entry? Room, bool IsMember)> CheckMemberAsync(string roomId, long userId, CancellationToken ct)
    {
        var entry = await GetAsync(roomId, ct);
        if (entry is null)
        {
            return (null, false);
        }

        if (entry.IsMember(userId))
        {
            return (entry, true);
        }

        entry = await LoadAsync(roomId, ct);
        return (entry, entry?.IsMember(userId) == true);
    }

    /// <summary>The cached rooms the user is a member of (a scan: for the rare corrections after a fault, not a hot path).</summary>
    public string[] CachedRoomsOf(long userId) => _rooms.Where(r => r.Value.IsMember(userId)).Select(r => r.Key).ToArray();

    public void ApplyJoin(string roomId, long userId) => Update(roomId, e => e.With(userId));

    public void ApplyLeave(string roomId, long userId) => Update(roomId, e => e.Without(userId));

    /// <summary>A deleted room: forgotten, so the next use finds it gone in the store.</summary>
    public void Forget(string roomId) => _rooms.TryRemove(roomId, out _);

    /// <summary>Keeps the cached name current after a rename.</summary>
    public void Rename(string roomId, string name) => Update(roomId, e => e.Room.Name == name ? e : new Entry(e.Room with { Name = name }, e.Members));

    /// <summary>Caches a room known to exist with these members (a new room or direct room).</summary>
    public void Put(Room room, params long[] members)
    {
        _rooms.AddOrUpdate(room.Id, _ => new Entry(room, members), (_, e) => members.Aggregate(e, (acc, m) => acc.With(m)));
        TrimIfFull();
    }

    /// <summary>Past the capacity, forgets rooms no local socket needs, down to three quarters of it.</summary>
    private void TrimIfFull()
    {
        if (_rooms.Count <= _capacity || Interlocked.Exchange(ref _trimming, 1) != 0)
        {
            return;
        }

        try
        {
            var excess = _rooms.Count - (_capacity - _capacity / 4);
            foreach (var (id, entry) in _rooms)
            {
                if (excess <= 0)
                {
                    break;
                }

                if (!interest.HasLocalSocket(entry.Members) && _rooms.TryRemove(new KeyValuePair<string, Entry>(id, entry)))
                {
                    excess--;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    private void Update(string roomId, Func<Entry, Entry> change)
    {
        while (_rooms.TryGetValue(roomId, out var current))
        {
            if (_rooms.TryUpdate(roomId, change(current), current))
            {
                return;
            }
        }
    }
}
