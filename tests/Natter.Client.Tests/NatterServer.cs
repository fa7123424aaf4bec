using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Natter.Client.Tests;

/// <summary>The application under test: the real server on Kestrel, 127.0.0.1, a fresh SQLite file per test.</summary>
internal sealed class NatterServer : IAsyncDisposable
{
    private readonly string _dbPath;
    private readonly ErrorLogCollector _errorLog = new();
    private WebApplication? _app;

    private NatterServer(string dbPath) => _dbPath = dbPath;

    public Uri BaseUri { get; private set; } = null!;

    public int Port => BaseUri.Port;

    public static async Task<NatterServer> StartAsync(CancellationToken cancellationToken)
    {
        var server = new NatterServer(Path.Combine(Path.GetTempPath(), $"natter-client-test-{Guid.NewGuid():N}.db"));
        await server.StartOnAsync(0, cancellationToken);
        return server;
    }

    /// <summary>Stops the app (its sockets drop) and starts a new one on the same port and database.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken, Func<Task>? whileDown = null)
    {
        await StopAsync(cancellationToken);
        if (whileDown is not null)
        {
            await whileDown();
        }
        await StartOnAsync(Port, cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await StopAsync(timeout.Token);
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try
            {
                File.Delete(_dbPath + suffix);
            }
            catch (IOException)
            {
                // Temp file; leaving it is harmless.
            }
        }
        // A test passes only if the server logged no error while it ran.
        Assert.Empty(_errorLog.Errors);
    }

    private async Task StartOnAsync(int port, CancellationToken cancellationToken)
    {
        var app = Natter.Server.NatterApp.Create(
            ["--urls", $"http://127.0.0.1:{port}", "--Natter:Storage:SqlitePath=" + _dbPath],
            builder =>
            {
                // Open sockets must not hold a restart for the default 30 s.
                builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(_errorLog);
            });
        await app.StartAsync(cancellationToken);
        _app = app;
        BaseUri = new Uri(app.Urls.First());
    }
}
