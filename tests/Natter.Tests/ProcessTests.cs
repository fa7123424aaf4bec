using System.Net.WebSockets;
using System.Text.Json;

namespace Natter.Tests;

/// <summary>Durability and shutdown, with the server in its own process on its default (FULL) SQLite durability.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("natter-proc-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<(TestUser User, string Room)> PrepareAsync(ServerProcess server)
    {
        var user = await TestUser.RegisterAsync(server.BaseUri, "durable", "long enough");
        return (user, await user.CreateRoomAsync("durable"));
    }

    private ServerOptions InFolder(params string[] settings) => new() { Folder = _folder, Settings = settings };

    /// <summary>
    /// Starts the server again on the same file and checks the room: seqs 1..N without a gap, and every acked
    /// message stored with its acked seq. Returns client_id → seq of everything stored.
    /// </summary>
    private async Task<Dictionary<string, long>> RestartAndCheckAsync(TestUser user, string room, Dictionary<string, long> acked)
    {
        await using var restarted = await ServerProcess.StartAsync(InFolder());
        var history = await user.At(restarted).AllMessagesAsync(room);
        var seqs = history.Select(m => m.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
        var stored = history.ToDictionary(m => m.GetProperty("client_id").GetString()!, m => m.GetProperty("seq").GetInt64());
        foreach (var (clientId, seq) in acked)
        {
            Assert.True(stored.TryGetValue(clientId, out var s), $"acked {clientId} is missing after the restart");
            Assert.Equal(seq, s);
        }

        return stored;
    }

    [Fact]
    public async Task Every_acked_message_survives_a_SIGKILL_with_its_seq_and_seqs_stay_gapless()
    {
        var acked = new Dictionary<string, long>();
        TestUser user;
        string room;
        await using (var server = await ServerProcess.StartAsync(InFolder("Natter:Limits:SendBurst=100000", "Natter:Limits:SendsPerSecond=100000")))
        {
            (user, room) = await PrepareAsync(server);
            await using var socket = await user.ConnectAsync();
            await socket.NextAsync("welcome");
            var sent = 0;
            var sender = Task.Run(async () =>
            {
                try
                {
                    while (sent < 100_000)
                    {
                        await socket.SendAsync(new { type = "send", room, text = $"m{sent}", client_id = $"c{sent}" });
                        sent++;
                        if (sent % 20 == 0)
                        {
                            await Task.Delay(1);
                        }
                    }
                }
                catch (Exception)
                {
                    // The server died under us: expected.
                }
            });

            while (acked.Count < 500)
            {
                var ack = await socket.NextAsync("ack");
                acked[ack.GetProperty("client_id").GetString()!] = ack.GetProperty("seq").GetInt64();
            }

            server.Kill();
            await server.WaitForExitAsync(TimeSpan.FromSeconds(10));

            // Acks already on the wire before the kill count too.
            try
            {
                while (true)
                {
                    var f = await socket.NextAsync(TimeSpan.FromSeconds(2));
                    if (f.GetProperty("type").GetString() == "ack")
                    {
                        acked[f.GetProperty("client_id").GetString()!] = f.GetProperty("seq").GetInt64();
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
            }

            await sender.WaitAsync(TimeSpan.FromSeconds(10));
        }

        await RestartAndCheckAsync(user, room, acked);
        Assert.True(acked.Count >= 500);
    }

    [Fact]
    public async Task SIGTERM_mid_stream_answers_every_accepted_message_closes_with_1001_and_loses_nothing()
    {
        await using var server = await ServerProcess.StartAsync(InFolder("Natter:Limits:SendBurst=100000", "Natter:Limits:SendsPerSecond=100000"));
        var (user, room) = await PrepareAsync(server);
        await using var socket = await user.ConnectAsync();
        await socket.NextAsync("welcome");
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await socket.SendAsync(new { type = "send", room, text = $"m{sent}", client_id = $"c{sent}", @ref = $"{sent}" });
                    sent++;
                    if (sent % 20 == 0)
                    {
                        await Task.Delay(1);
                    }
                }
            }
            catch (Exception)
            {
                // The socket closed under the sender: expected.
            }
        });

        var acked = new Dictionary<string, long>();
        var refused = new HashSet<string>();
        while (acked.Count < 300)
        {
            var ack = await socket.NextAsync("ack");
            acked[ack.GetProperty("client_id").GetString()!] = ack.GetProperty("seq").GetInt64();
        }

        server.Terminate();
        while (true)
        {
            JsonElement f;
            try
            {
                f = await socket.NextAsync(TimeSpan.FromSeconds(30));
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                break;
            }

            switch (f.GetProperty("type").GetString())
            {
                case "ack":
                    acked[f.GetProperty("client_id").GetString()!] = f.GetProperty("seq").GetInt64();
                    break;
                case "error":
                    refused.Add(f.GetProperty("ref").GetString()!);
                    break;
            }
        }

        await stop.CancelAsync();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await socket.WaitClosedAsync());
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await sender.WaitAsync(TimeSpan.FromSeconds(10));

        var stored = await RestartAndCheckAsync(user, room, acked);

        // Nothing was stored without its sender hearing of it, and nothing refused was stored.
        Assert.Equal(acked.Count, stored.Count);
        Assert.DoesNotContain(refused, r => stored.ContainsKey("c" + r));
    }
}
