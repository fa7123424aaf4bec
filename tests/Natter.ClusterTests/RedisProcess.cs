using System.Diagnostics;
using StackExchange.Redis;

namespace Natter.ClusterTests;

/// <summary>A Redis server of the test's own (NATTER_TEST_REDIS_SERVER) on a free port, so the test may kill and restart it.</summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly string _path;
    private readonly string _dir = Directory.CreateTempSubdirectory("natter-redis-").FullName;
    private Process? _process;

    private RedisProcess(string path, int port)
    {
        _path = path;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisProcess> StartAsync()
    {
        var redis = new RedisProcess(TestServices.RedisServerPath, TestServices.FreePort());
        await redis.StartAsync(TimeSpan.FromSeconds(10));
        return redis;
    }

    public async Task StartAsync(TimeSpan within)
    {
        var psi = new ProcessStartInfo(_path) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _dir, "--save", "", "--appendonly", "no" })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await using var mux = await ConnectionMultiplexer.ConnectAsync(Endpoint + ",connectTimeout=500");
                return (await mux.GetDatabase().PingAsync()) >= TimeSpan.Zero;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, $"redis-server on {Endpoint} answers", within);
    }

    /// <summary>SIGKILL, and the data goes with it (no persistence): a Redis that crashed and came back empty.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            p.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
