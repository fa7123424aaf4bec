using System.Net.Http.Json;
using System.Net.WebSockets;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 12: a text frame that is not UTF-8 always closes the socket with 1007, never a bare drop.</summary>
public sealed class InvalidUtf8Tests
{
    private static readonly byte[][] Frames =
    [
        [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d],                       // bytes that are never UTF-8
        [0xc0, 0xaf],                                               // overlong '/'
        [0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d], // an encoded surrogate
        [0x22, 0x61, 0xe2, 0x82],                                   // cut off in the middle of a character
        [.. "{\"type\":\"ping\",\"ref\":\""u8, .. Enumerable.Repeat((byte)'x', 5000), 0xf8, 0x88, 0x80, 0x80, 0x80, .. "\"}"u8], // late in a long frame
    ];

    [Fact]
    public async Task Every_invalid_utf8_frame_closes_with_1007()
    {
        await using var server = await TestServer.StartAsync(
            "Natter:Limits:SocketsPerUser=1000", "Natter:Limits:SocketsPerAddress=1000", "Natter:Limits:SendsPerSecond=100000", "Natter:Limits:SendBurst=100000");
        var users = new[] { await server.UserAsync("a"), await server.UserAsync("b"), await server.UserAsync("c"), await server.UserAsync("d") };
        var wsUri = new Uri(server.BaseUri, "/ws");
        var rooms = new string[users.Length];
        for (var u = 0; u < users.Length; u++)
        {
            rooms[u] = await users[u].CreateRoomAsync();
            using var http = users[u].Http();
            for (var m = 0; m < 100; m++)
            {
                await http.PostAsJsonAsync($"/api/rooms/{rooms[u]}/messages", new { text = new string('m', 300), client_id = $"{m}" });
            }
        }

        var outcomes = new System.Collections.Concurrent.ConcurrentBag<string>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 400), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var user = users[i % users.Length];
            await using var socket = await TestSocket.ConnectAsync(wsUri, user.Token);
            if (i % 2 == 0)
            {
                await socket.NextAsync("welcome");
            }

            if (i % 4 == 1)
            {
                // The server is busy writing a sync answer when the bad frame arrives.
                await socket.SendTextAsync($$$"""{"type":"sync","rooms":{"{{{rooms[i % users.Length]}}}":0}}""");
            }

            var frame = Frames[i % Frames.Length];
            if (i % 3 == 0)
            {
                // Sent in two fragments, with more frames after it.
                await socket.Raw.SendAsync(frame.AsMemory(0, frame.Length / 2), WebSocketMessageType.Text, false, CancellationToken.None);
                await socket.Raw.SendAsync(frame.AsMemory(frame.Length / 2), WebSocketMessageType.Text, true, CancellationToken.None);
            }
            else
            {
                await socket.SendBytesAsync(frame, WebSocketMessageType.Text);
            }

            try
            {
                for (var k = 0; k < i % 4; k++)
                {
                    await socket.SendTextAsync("""{"type":"ping"}""");
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server may have closed already.
            }

            var status = await socket.WaitClosedAsync();
            outcomes.Add(status is WebSocketCloseStatus.InvalidPayloadData ? "1007" : $"{(int?)status} ({socket.Raw.State}) frame {i % Frames.Length}, i={i}");
        });

        var wrong = outcomes.Where(o => o != "1007").ToArray();
        Assert.True(wrong.Length == 0, $"{wrong.Length} of {outcomes.Count} closed otherwise: {string.Join("; ", wrong.Take(10))}");
    }
}
