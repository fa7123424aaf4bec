using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Natter.ClusterTests;

/// <summary>Where a cluster's nodes meet: one MariaDB database and one Redis key prefix, both unique to the test.</summary>
public sealed class ClusterConfig
{
    public required string MySql { get; init; }
    public required string Database { get; init; }
    public required string Redis { get; init; }
    public string Prefix { get; } = "natter-t-" + Guid.NewGuid().ToString("N")[..8];
    public TimeSpan PresenceTtl { get; init; } = TimeSpan.FromSeconds(4);

    public static ClusterConfig Create(string? redis = null)
    {
        var mysql = Services.NewDatabase(out var database);
        return new ClusterConfig { MySql = mysql, Database = database, Redis = redis ?? Services.Redis };
    }

    public string[] Args(string node, int port = 0) =>
    [
        "--urls", $"http://127.0.0.1:{port}",
        "--Natter:NodeName=" + node,
        "--Natter:Storage:Provider=mysql",
        "--Natter:Storage:MySqlConnectionString=" + MySql,
        "--Natter:Bus:Provider=redis",
        "--Natter:Bus:RedisConnectionString=" + Redis,
        "--Natter:Bus:RedisPrefix=" + Prefix,
        "--Natter:Bus:PresenceTtl=" + PresenceTtl.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        "--Natter:Limits:SendsPerSecond=100000",
        "--Natter:Limits:SendBurst=100000",
        "--Natter:Metrics:Token=" + MetricsToken,
        "--Logging:LogLevel:Default=Warning",
    ];

    /// <summary>The bearer token every node's /metrics wants.</summary>
    public const string MetricsToken = "cluster-test-metrics-token";
}

public interface INode : IAsyncDisposable
{
    string Name { get; }
    Uri BaseUri { get; }
}

/// <summary>A node in this test process (NatterApp on Kestrel, port 0). Error-level log lines are collected.</summary>
public sealed class InProcessNode : INode
{
    private readonly WebApplication _app;

    private InProcessNode(string name, WebApplication app, ErrorLog errors)
    {
        Name = name;
        _app = app;
        Errors = errors;
        BaseUri = new Uri(app.Urls.First());
    }

    public string Name { get; }
    public Uri BaseUri { get; }
    public ErrorLog Errors { get; }

    public static async Task<InProcessNode> StartAsync(ClusterConfig config, string name)
    {
        var errors = new ErrorLog(name);
        var app = Natter.Server.NatterApp.Create(config.Args(name), b =>
        {
            b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
            b.Logging.AddProvider(errors);
        });
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new InProcessNode(name, app, errors);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A node as its own process (dotnet Natter.Server.dll), so it can die by SIGKILL.</summary>
public sealed partial class ProcessNode : INode
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ProcessNode(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }
    public Uri BaseUri { get; private set; } = null!;
    public string Output => string.Join('\n', _output);

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex Listening();

    public static async Task<ProcessNode> StartAsync(ClusterConfig config, string name)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Natter.Server.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in config.Args(name))
        {
            psi.ArgumentList.Add(a);
        }

        psi.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var node = new ProcessNode(name, process);
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            node._output.Enqueue(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m)
            {
                url.TrySetResult(m.Groups[1].Value);
            }
        };
        process.ErrorDataReceived += (_, e) => node._output.Enqueue(e.Data ?? "");
        process.Exited += (_, _) => url.TrySetException(new InvalidOperationException("the node exited"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            node.BaseUri = new Uri(await url.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        catch (Exception e)
        {
            process.Kill(true);
            throw new InvalidOperationException($"Node {name} did not start:\n{node.Output}", e);
        }

        return node;
    }

    /// <summary>SIGKILL: no shutdown, no goodbye to Redis or the sockets.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Collects Error and Critical log lines: a test fails when a node logs one it did not expect.</summary>
public sealed class ErrorLog(string node) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(ErrorLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // An unhealthy /healthz is logged as an error by the health check service; tests assert /healthz itself.
        public bool IsEnabled(LogLevel logLevel) =>
            logLevel >= LogLevel.Error && !category.StartsWith("Microsoft.Extensions.Diagnostics.HealthChecks", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._lines.Enqueue($"[{owner.NodeName}] {category}: {formatter(state, exception)} {exception}");
            }
        }
    }

    private string NodeName => node;
}

/// <summary>HTTP calls a test needs, against any node.</summary>
public static class Api
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    public static async Task<string> RegisterAndLoginAsync(INode node, string username)
    {
        var reg = await Http.PostAsJsonAsync(new Uri(node.BaseUri, "/api/register"), new { username, password = "password-" + username });
        reg.EnsureSuccessStatusCode();
        return await LoginAsync(node, username);
    }

    public static async Task<string> LoginAsync(INode node, string username)
    {
        var res = await Http.PostAsJsonAsync(new Uri(node.BaseUri, "/api/login"), new { username, password = "password-" + username });
        res.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    public static async Task<string> CreateRoomAsync(INode node, string token, string name)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(node.BaseUri, "/api/rooms")) { Content = JsonContent.Create(new { name }) };
        req.Headers.Authorization = new("Bearer", token);
        var res = await Http.SendAsync(req);
        res.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    public static async Task JoinAsync(INode node, string token, string room)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(node.BaseUri, $"/api/rooms/{room}/join"));
        req.Headers.Authorization = new("Bearer", token);
        (await Http.SendAsync(req)).EnsureSuccessStatusCode();
    }

    public static async Task<string[]> OnlineAsync(INode node, string token)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, new Uri(node.BaseUri, "/api/users?online=true"));
        req.Headers.Authorization = new("Bearer", token);
        var res = await Http.SendAsync(req);
        res.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        return doc.RootElement.EnumerateArray().Select(u => u.GetProperty("username").GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    public static async Task<int> HealthAsync(INode node)
    {
        try
        {
            return (int)(await Http.GetAsync(new Uri(node.BaseUri, "/healthz"))).StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    public static async Task<string> MetricsAsync(INode node)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.BaseUri, "/metrics"));
        request.Headers.Authorization = new("Bearer", ClusterConfig.MetricsToken);
        var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Polls until the condition holds; fails with the message when the time is up.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var until = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"Not within {within.TotalSeconds} s: {what}");
            }

            await Task.Delay(50);
        }
    }
}
