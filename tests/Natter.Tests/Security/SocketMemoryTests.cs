using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Natter.Server.Delivery;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 1: what a client sends never grows the server's memory for its socket without bound.</summary>
public sealed class SocketMemoryTests
{
    private const int Bound = 32 * 1024;

    [Fact]
    public async Task A_client_that_never_reads_and_floods_control_frames_is_paused_then_closed_and_its_queue_stays_bounded()
    {
        await using var server = await TestServer.StartAsync(
            $"Natter:Limits:OutboundControlBytes={Bound}",
            "Natter:WebSocket:BackpressureTimeout=00:00:02",
            "Natter:Limits:SendsPerSecond=100000",
            "Natter:Limits:SendBurst=100000");
        var a = await server.UserAsync("a");
        var room = await a.CreateRoomAsync();
        using (var http = a.Http())
        {
            for (var i = 0; i < 20; i++)
            {
                await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text = new string('m', 200), client_id = $"{i}" }, TestContext.Current.CancellationToken);
            }
        }

        // A client that never reads: every answer the server owes it waits on the server.
        await using var socket = await TestSocket.ConnectAsync(new Uri(server.BaseUri, "/ws"), a.Token, startReading: false);
        var registry = server.Services.GetRequiredService<ConnectionRegistry>();
        var conn = await WaitForAsync(() => registry.All().FirstOrDefault(c => c.Username == a.Username));

        var max = 0;
        using var stopPolling = new CancellationTokenSource();
        var poller = Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested)
            {
                max = Math.Max(max, conn.QueuedControlBytes);
                await Task.Delay(5, CancellationToken.None);
            }
        }, CancellationToken.None);

        // Each answer echoes a 500-byte ref, so the flood is far larger than what TCP buffers could hold.
        var pad = new string('p', 500);
        var frames = new[]
        {
            Encoding.UTF8.GetBytes($$"""{"type":"ping","ref":"{{pad}}"}"""),
            Encoding.UTF8.GetBytes($$"""{"type":"typing","room":"{{room}}","ref":"{{pad}}"}"""),
            Encoding.UTF8.GetBytes($$$"""{"type":"sync","rooms":{"{{{room}}}":0},"ref":"{{{pad}}}"}"""),
            Encoding.UTF8.GetBytes($$"""{"type":"read","room":"{{room}}","seq":1,"ref":"{{pad}}"}"""),
        };
        var sent = 0;
        var stalled = false;
        Task? pending = null;
        var clock = Stopwatch.StartNew();
        while (sent < 300_000 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var send = socket.Raw.SendAsync(frames[sent % frames.Length], WebSocketMessageType.Text, true, CancellationToken.None);
            if (await Task.WhenAny(send, Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None)) != send)
            {
                stalled = true; // the server stopped reading this socket
                pending = send;
                break;
            }

            if (send.IsFaulted)
            {
                break; // the server closed it
            }

            sent++;
        }

        Assert.True(max <= Bound + 8192, $"{max} bytes were queued for one socket (bound {Bound}) after {sent} frames");
        Assert.True(stalled, $"the server kept reading {sent} frames from a client that reads nothing");

        // Paused, then closed: the server ends the socket once its writer cannot catch up (the client does nothing),
        // and never reads it again: the send that stalled does not go through, it fails when the socket is aborted.
        await WaitForAsync(() => registry.All().Contains(conn) ? null : conn, TimeSpan.FromSeconds(30));
        await Task.WhenAny(pending!, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.False(pending!.IsCompletedSuccessfully, "the server read the socket again after it stopped reading it to close it");
        await stopPolling.CancelAsync();
        await poller;
        Assert.True(max <= Bound + 8192, $"{max} bytes were queued for one socket (bound {Bound})");
    }

    [Fact]
    public async Task Pings_over_the_rate_are_answered_rate_limited_and_the_socket_stays_open()
    {
        await using var server = await TestServer.StartAsync("Natter:Limits:PingsPerSecond=2");
        var a = await server.UserAsync();
        var socket = await a.ConnectAsync();
        await socket.NextAsync("welcome");
        for (var i = 0; i < 40; i++)
        {
            await socket.SendAsync(new { type = "ping", @ref = $"{i}" });
        }

        var pongs = 0;
        var limited = 0;
        while (pongs + limited < 40)
        {
            var f = await socket.NextAsync();
            switch (f.GetProperty("type").GetString())
            {
                case "pong":
                    pongs++;
                    break;
                case "error":
                    Assert.Equal("rate_limited", f.GetProperty("code").GetString());
                    limited++;
                    break;
            }
        }

        Assert.True(limited > 0, "40 pings at once were all answered");
        Assert.True(pongs > 0);

        // Refused pings are not bad frames: later pings are answered again.
        await Wait.UntilAsync(async () =>
        {
            await socket.SendAsync(new { type = "ping", @ref = "later" });
            var f = await socket.NextAsync();
            if (f.GetProperty("type").GetString() == "pong")
            {
                return true;
            }

            await Task.Delay(300);
            return false;
        }, "a later ping is answered with a pong");
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> find, TimeSpan? within = null)
        where T : class
    {
        var until = DateTime.UtcNow + (within ?? TestServer.Timeout);
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < until, "not within the time");
            await Task.Delay(20);
        }
    }
}
