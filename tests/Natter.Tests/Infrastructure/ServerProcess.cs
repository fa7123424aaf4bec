using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Natter.Tests.Infrastructure;

/// <summary>The server as a separate process (the real binary, default durability), so it can be killed.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private ServerProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }
    public int Pid => _process.Id;
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    public static async Task<ServerProcess> StartAsync(string folder, int port = 0, params string[] settings)
    {
        port = port == 0 ? FreePort() : port;
        var dll = Path.Combine(AppContext.BaseDirectory, "Natter.Server.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--Natter:Auth:Argon2Iterations=1", "--Natter:Auth:Argon2MemoryKiB=8192" })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var s in settings)
        {
            psi.ArgumentList.Add("--" + s);
        }

        var process = Process.Start(psi)!;
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > until)
            {
                throw new InvalidOperationException("The server did not start:\n" + server.Output);
            }

            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>SIGKILL: no chance to flush anything.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, as an orchestrator stops a service.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }
}
