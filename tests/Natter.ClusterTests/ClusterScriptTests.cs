using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Natter.ClusterTests;

/// <summary>scripts/cluster.sh, the local cluster for trying things out: Ctrl-C stops every process gracefully and the script ends.</summary>
public sealed class ClusterScriptTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Natter.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Natter.slnx not found above " + AppContext.BaseDirectory);
    }

    private static void Signal(string signal, string target)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, "--", target }, UseShellExecute = false })!;
        kill.WaitForExit(5000);
    }

    /// <summary>Whether the process still runs; an exited one nobody has reaped yet (a zombie, state Z) does not.</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Ctrl_C_stops_every_node_gracefully_then_the_services_and_the_script_ends()
    {
        _ = TestServices.RedisServerPath; // the script needs redis-server and mariadbd installed, as the services do
        var output = new ConcurrentQueue<string>();
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? folder = null;

        // setsid: the script leads a process group of its own, so the test can send SIGINT to the group as a terminal's Ctrl-C does.
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add(Path.Combine(RepoRoot(), "scripts", "cluster.sh"));
        psi.Environment["NODES"] = "1";
        psi.Environment["KEEP"] = "1";
        psi.Environment["NATTER_SERVER_DLL"] = Path.Combine(AppContext.BaseDirectory, "Natter.Server.dll");
        using var script = Process.Start(psi)!;
        void Read(string? line)
        {
            if (line is null)
            {
                return;
            }

            output.Enqueue(line);
            if (line.StartsWith("== folder ", StringComparison.Ordinal))
            {
                folder = line["== folder ".Length..].Trim();
            }

            if (line.StartsWith("== cluster up", StringComparison.Ordinal))
            {
                up.TrySetResult();
            }
        }

        script.OutputDataReceived += (_, e) => Read(e.Data);
        script.ErrorDataReceived += (_, e) => Read(e.Data);
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        try
        {
            await up.Task.WaitAsync(TimeSpan.FromSeconds(120));
            Assert.NotNull(folder);
            var pids = Directory.GetFiles(folder, "*.pid")
                .ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture));
            Assert.Contains("node1", pids.Keys);

            Signal("INT", "-" + script.Id.ToString(CultureInfo.InvariantCulture));
            var exited = await Task.Run(() => script.WaitForExit(60_000));
            Assert.True(exited, "the script still runs 60 s after Ctrl-C:\n" + string.Join("\n", output.TakeLast(10)));
            foreach (var (name, pid) in pids)
            {
                Assert.False(Alive(pid), $"{name} (pid {pid}) still runs after the script ended");
            }

            // The node went through Natter's own shutdown (drain, then close sockets with 1001) rather than a SIGKILL.
            var nodeLog = File.ReadAllText(Path.Combine(folder, "node1.log"));
            Assert.Contains("Shutdown: ingest drained", nodeLog, StringComparison.Ordinal);
            Assert.DoesNotContain(output, l => l.Contains("SIGKILL", StringComparison.Ordinal));
        }
        finally
        {
            if (!script.HasExited)
            {
                Signal("KILL", "-" + script.Id.ToString(CultureInfo.InvariantCulture));
            }

            if (folder is not null)
            {
                foreach (var pidFile in Directory.Exists(folder) ? Directory.GetFiles(folder, "*.pid") : [])
                {
                    if (int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid) && Alive(pid))
                    {
                        Signal("KILL", pid.ToString(CultureInfo.InvariantCulture));
                    }
                }

                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }
    }
}
