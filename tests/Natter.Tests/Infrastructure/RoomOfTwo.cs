namespace Natter.Tests.Infrastructure;

/// <summary>
/// The most common arrange: two users in one group room (<see cref="A"/> created it, <see cref="B"/> joined), and
/// when the test needs them, a socket each (<see cref="ConnectAsync"/>).
/// </summary>
public sealed record RoomOfTwo(TestUser A, TestUser B, string Room)
{
    /// <summary>Registers two users (named by these prefixes, made unique), A creates the room, B joins it.</summary>
    public static async Task<RoomOfTwo> CreateAsync(TestServer server, string a = "a", string b = "b", string room = "room")
    {
        var ua = await server.UserAsync(a);
        var ub = await server.UserAsync(b);
        var id = await ua.CreateRoomAsync(room);
        await ub.JoinAsync(id);
        return new RoomOfTwo(ua, ub, id);
    }

    /// <summary>
    /// Connects A, then B, each read past its welcome. With <paramref name="ping"/>, each socket then answers a ping
    /// (in A, B order), so both are past everything the server queued before: presence frames before the pong are
    /// dropped then, as NextAsync drops what it skips.
    /// </summary>
    public async Task<(TestSocket A, TestSocket B)> ConnectAsync(bool ping = false)
    {
        var sa = await A.ConnectAsync();
        await sa.NextAsync("welcome");
        var sb = await B.ConnectAsync();
        await sb.NextAsync("welcome");
        if (ping)
        {
            foreach (var s in new[] { sa, sb })
            {
                await s.SendAsync(new { type = "ping" });
                await s.NextAsync("pong");
            }
        }

        return (sa, sb);
    }

    /// <summary>Both steps at once: the room of two, both connected.</summary>
    public static async Task<(RoomOfTwo Two, TestSocket A, TestSocket B)> ConnectedAsync(TestServer server, bool ping = false)
    {
        var two = await CreateAsync(server);
        var (sa, sb) = await two.ConnectAsync(ping);
        return (two, sa, sb);
    }
}
