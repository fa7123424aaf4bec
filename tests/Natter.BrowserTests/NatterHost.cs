using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Natter.Server;

namespace Natter.BrowserTests;

/// <summary>
/// The application under test: the real server on real Kestrel (loopback, port chosen by the OS),
/// with its own SQLite file. It can be stopped and started again on the same port and file.
/// </summary>
public sealed class NatterHost : IAsyncDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    readonly string _dataDir;
    readonly string[] _settings;
    readonly ErrorLogCollector _errors = new();
    WebApplication? _app;

    NatterHost(string[] settings)
    {
        _settings = settings;
        _dataDir = Path.Combine(Path.GetTempPath(), "natter-browser-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dataDir);
    }

    public int Port { get; private set; }
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");
    public string DbPath => Path.Combine(_dataDir, "natter.db");

    /// <summary>Error and critical log lines the server wrote; a test fails when there are any.</summary>
    public IReadOnlyList<string> ErrorLogs => _errors.Lines;

    /// <summary>Where the client's files live: the source folder, stamped into the assembly at build time.</summary>
    public static string WebRoot =>
        typeof(NatterHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "NatterWebRoot").Value!;

    /// <summary>Starts a server; settings are "Section:Key=value" overrides.</summary>
    public static async Task<NatterHost> StartAsync(CancellationToken ct, params string[] settings)
    {
        var host = new NatterHost(settings);
        await host.StartAppAsync(0, ct);
        return host;
    }

    async Task StartAppAsync(int port, CancellationToken ct)
    {
        string[] args =
        [
            "--urls", $"http://127.0.0.1:{port}",
            $"--Natter:Storage:SqlitePath={DbPath}",
            $"--webroot={WebRoot}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
            .. _settings.Select(s => "--" + s),
        ];
        // After a stop the port can take a moment to be free again.
        for (var attempt = 0; ; attempt++)
        {
            var app = NatterApp.Create(args, builder =>
            {
                // Open sockets would otherwise hold a stop for the server's 30 s default.
                builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
                builder.Logging.AddProvider(_errors);
            });
            try
            {
                await app.StartAsync(ct).WaitAsync(StartTimeout, ct);
                _app = app;
                break;
            }
            catch (IOException) when (attempt < 20 && port != 0)
            {
                await app.DisposeAsync().AsTask().WaitAsync(StopTimeout, ct);
                await Task.Delay(250, ct);
            }
        }
        Port = new Uri(_app.Urls.First()).Port;
    }

    /// <summary>Stops the server (clients see their sockets close) and keeps the database file.</summary>
    public async Task StopAsync()
    {
        if (_app is null) return;
        var app = _app;
        _app = null;
        using var cts = new CancellationTokenSource(StopTimeout);
        try
        {
            await app.StopAsync(cts.Token).WaitAsync(StopTimeout + TimeSpan.FromSeconds(2), CancellationToken.None);
        }
        finally
        {
            await app.DisposeAsync().AsTask().WaitAsync(StopTimeout, CancellationToken.None);
        }
    }

    /// <summary>Starts a new server on the same port and database file.</summary>
    public Task RestartAsync(CancellationToken ct) => StartAppAsync(Port, ct);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_dataDir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
