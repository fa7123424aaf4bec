using System.Net.WebSockets;
using Natter.Server.Entry;
using Natter.Tests.Unit;

namespace Natter.Tests.Sockets;

/// <summary>The one timer that closes sockets whose sessions run out (Entry/SessionExpiry).</summary>
public sealed class SessionExpiryTimerTests
{
    [Fact]
    public async Task Of_two_sockets_only_the_one_whose_session_ran_out_is_closed_with_4001()
    {
        using var expiry = new SessionExpiry(TimeProvider.System);
        await using var soon = new ConnectionUnderTest(new FakeRoomLog());
        await using var later = new ConnectionUnderTest(new FakeRoomLog(), userId: 2, username: "ben");
        expiry.Watch(later.Connection, DateTimeOffset.UtcNow.AddHours(1));
        expiry.Watch(soon.Connection, DateTimeOffset.UtcNow.AddMilliseconds(300));

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (true)
            {
                await soon.NextAsync();
            }
        });
        Assert.Equal((WebSocketCloseStatus)4001, soon.CloseStatus);
        Assert.False(later.Connection.IsClosing);
        Assert.Equal(1, expiry.Count);
    }

    [Fact]
    public async Task A_socket_that_ended_is_forgotten_and_never_closed_by_the_timer()
    {
        using var expiry = new SessionExpiry(TimeProvider.System);
        await using var socket = new ConnectionUnderTest(new FakeRoomLog());
        var entry = expiry.Watch(socket.Connection, DateTimeOffset.UtcNow.AddMilliseconds(200));
        expiry.Forget(entry);
        Assert.Equal(0, expiry.Count);

        // A later expiry on the same timer fires after the forgotten one would have: the forgotten socket stays open.
        await using var other = new ConnectionUnderTest(new FakeRoomLog(), userId: 2, username: "ben");
        expiry.Watch(other.Connection, DateTimeOffset.UtcNow.AddMilliseconds(400));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (true)
            {
                await other.NextAsync();
            }
        });
        Assert.Equal((WebSocketCloseStatus)4001, other.CloseStatus);
        Assert.False(socket.Connection.IsClosing);
    }

    [Fact]
    public async Task A_session_that_ends_in_more_than_a_timers_reach_is_watched_until_then()
    {
        using var expiry = new SessionExpiry(TimeProvider.System);
        await using var socket = new ConnectionUnderTest(new FakeRoomLog());
        expiry.Watch(socket.Connection, DateTimeOffset.UtcNow.AddDays(400));
        await using var soon = new ConnectionUnderTest(new FakeRoomLog(), userId: 2, username: "ben");
        expiry.Watch(soon.Connection, DateTimeOffset.UtcNow.AddMilliseconds(100));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (true)
            {
                await soon.NextAsync();
            }
        });
        Assert.False(socket.Connection.IsClosing);
        Assert.Equal(1, expiry.Count);
    }
}
