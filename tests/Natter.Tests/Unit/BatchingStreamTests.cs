using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Natter.Server.Delivery;

namespace Natter.Tests.Unit;

/// <summary>The writer frames text itself into the batch: a WebSocket client must read exactly the messages written, in order.</summary>
public sealed class BatchingStreamTests
{
    [Fact]
    public async Task Text_frames_written_straight_into_the_batch_reach_a_websocket_client_whole_and_in_order_beside_the_sockets_own_frames()
    {
        var ct = TestContext.Current.CancellationToken;
        var toClient = new Pipe();
        var toServer = new Pipe();
        using var batching = new BatchingStream(toClient.Writer.AsStream());
        using var server = WebSocket.CreateFromStream(new DuplexStream(toServer.Reader.AsStream(), batching),
            new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        using var client = WebSocket.CreateFromStream(new DuplexStream(toClient.Reader.AsStream(), toServer.Writer.AsStream()),
            new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = Timeout.InfiniteTimeSpan });

        // Every length class of the frame header (7-bit, 16-bit, 64-bit), and one batch past the flush size.
        int[] lengths = [0, 1, 125, 126, 127, 65_535, 65_536, 200_000, 3];
        var expected = new List<string>();
        var reading = ReadAllAsync(client, lengths.Length + 2, ct);

        batching.BeginBatch();
        foreach (var n in lengths.Take(5))
        {
            expected.Add(Text(n));
            await batching.WriteTextFrameAsync(Encoding.UTF8.GetBytes(Text(n)), ct);
        }

        // The socket's own send lands in the same batch, between whole frames.
        expected.Add("from the socket");
        await server.SendAsync(Encoding.UTF8.GetBytes("from the socket"), WebSocketMessageType.Text, true, ct);
        foreach (var n in lengths.Skip(5))
        {
            expected.Add(Text(n));
            await batching.WriteTextFrameAsync(Encoding.UTF8.GetBytes(Text(n)), ct);
        }

        await batching.EndBatchAsync(ct);

        // Outside a batch the frame is written at once.
        expected.Add("after the batch");
        await batching.WriteTextFrameAsync(Encoding.UTF8.GetBytes("after the batch"), ct);

        Assert.Equal(expected, await reading.WaitAsync(TimeSpan.FromSeconds(10), ct));
    }

    private static string Text(int n) => string.Create(n, n, static (span, n) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (char)('a' + ((i + n) % 26));
        }
    });

    private static async Task<List<string>> ReadAllAsync(WebSocket client, int count, CancellationToken ct)
    {
        var messages = new List<string>();
        var buffer = new byte[256 * 1024];
        while (messages.Count < count)
        {
            var total = 0;
            ValueWebSocketReceiveResult r;
            do
            {
                r = await client.ReceiveAsync(buffer.AsMemory(total), ct);
                Assert.Equal(WebSocketMessageType.Text, r.MessageType);
                total += r.Count;
            }
            while (!r.EndOfMessage);

            messages.Add(Encoding.UTF8.GetString(buffer, 0, total));
        }

        return messages;
    }
}
