using Microsoft.Extensions.Options;
using Natter.Server.Common;
using Natter.Server.Rooms;
using Natter.Server.Storage;

namespace Natter.Tests.Unit;

/// <summary>Per-node state that would grow with every room ever seen stays within Limits.TrackedRooms.</summary>
public sealed class BoundedStateTests
{
    [Fact]
    public void The_last_seq_map_forgets_the_rooms_touched_least_recently()
    {
        var map = new RoomSeqMap(capacity: 100);
        map.Set("kept", 7);
        for (var i = 0; i < 10_000; i++)
        {
            map.Set($"room-{i}", i);
            if (i % 50 == 0)
            {
                Assert.True(map.TryGet("kept", out _)); // touched often: never the oldest
            }
        }

        Assert.InRange(map.Count, 1, 100);
        Assert.True(map.TryGet("kept", out var seq));
        Assert.Equal(7, seq);
        Assert.True(map.TryGet("room-9999", out _));
        Assert.False(map.TryGet("room-0", out _));
    }

    [Fact]
    public void The_membership_cache_forgets_rooms_no_local_socket_needs_and_keeps_the_others()
    {
        var interest = new LocalUsers(42);
        var rooms = new RoomDirectory(UnusedStore.Create(), interest, Options.Create(new NatterOptions { Limits = { TrackedRooms = 100 } }));
        rooms.Put(new Room("watched", "Watched", RoomKinds.Group), 42);
        for (var i = 0; i < 5_000; i++)
        {
            rooms.Put(new Room($"room-{i}", "Other", RoomKinds.Group), 1000 + i);
        }

        Assert.InRange(rooms.Count, 1, 101);
        Assert.NotNull(rooms.Peek("watched"));
    }

    private sealed class LocalUsers(params long[] users) : ILocalInterest
    {
        public bool HasLocalSocket(IReadOnlyList<long> members) => members.Any(users.Contains);
    }
}
