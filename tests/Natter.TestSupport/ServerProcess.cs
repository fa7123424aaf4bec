using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Natter.TestSupport;

/// <summary>
/// The server as a separate process (the real binary, its default durability), so a test can kill it (SIGKILL) or
/// stop it as an orchestrator does (SIGTERM). It listens on a port the OS picks, read back from its log.
/// </summary>
public sealed partial class ServerProcess : IServerUnderTest, IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Everything the process wrote so far.</summary>
    public string Output => string.Join('\n', _output);

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex Listening();

    /// <summary>
    /// Starts the server and waits until /healthz answers 200. Give <see cref="ServerOptions.Folder"/> to keep the
    /// SQLite file across processes (a restart), or a <see cref="ServerOptions.Cluster"/>.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(ServerOptions options)
    {
        var folder = options.Folder ?? (options.Cluster is null ? throw new ArgumentException("A separate process needs a Folder for its SQLite file, or a Cluster.", nameof(options)) : "");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (folder.Length > 0)
        {
            psi.WorkingDirectory = folder;
        }

        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Natter.Server.dll"));
        foreach (var a in options.Arguments(folder, port: 0, inProcess: false))
        {
            psi.ArgumentList.Add(a);
        }

        psi.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var server = new ServerProcess(options.Name, process);
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            server._output.Enqueue(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m)
            {
                url.TrySetResult(m.Groups[1].Value);
            }
        };
        process.ErrorDataReceived += (_, e) => server._output.Enqueue(e.Data ?? "");
        process.Exited += (_, _) => url.TrySetException(new InvalidOperationException("the server exited"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            server.BaseUri = new Uri(await url.Task.WaitAsync(TimeSpan.FromSeconds(30)));
            await Wait.UntilAsync(async () => await server.HealthAsync() == (int)HttpStatusCode.OK, $"{options.Name} /healthz answers 200", TimeSpan.FromSeconds(30));
        }
        catch (Exception e)
        {
            server.Kill();
            process.Dispose();
            throw new InvalidOperationException($"The server {options.Name} did not start:\n{server.Output}", e);
        }

        return server;
    }

    /// <summary>
    /// The process's memory from /proc: its resident set now and its peak so far (VmRSS, VmHWM), in bytes.
    /// </summary>
    public (long Rss, long Peak) Memory()
    {
        long Read(string[] lines, string key) =>
            long.Parse(lines.Single(l => l.StartsWith(key + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        var status = File.ReadAllLines($"/proc/{_process.Id.ToString(CultureInfo.InvariantCulture)}/status");
        return (Read(status, "VmRSS"), Read(status, "VmHWM"));
    }

    /// <summary>SIGKILL: no shutdown, no flush, no goodbye to Redis or the sockets.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }

        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, as an orchestrator stops a service.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
