using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Natter.Server;

namespace Natter.TestSupport;

/// <summary>A running server a test talks to: in this process (<see cref="TestServer"/>) or its own (<see cref="ServerProcess"/>).</summary>
public interface IServerUnderTest
{
    string Name { get; }
    Uri BaseUri { get; }
}

/// <summary>
/// The application under test: the real server on real Kestrel at 127.0.0.1 on a port the OS picks, with its own
/// SQLite file in a temporary folder (or a cluster's MariaDB and Redis). It can stop and start again on the same
/// port and data. Disposing stops it and fails the test if the server logged an error.
/// </summary>
public sealed class TestServer : IServerUnderTest, IAsyncDisposable
{
    public static readonly TimeSpan Timeout = Wait.Step;

    private readonly ServerOptions _options;
    private readonly bool _ownsFolder;
    private readonly List<TestSocket> _sockets = [];
    private WebApplication? _app;

    private TestServer(ServerOptions options, string? folder, bool ownsFolder)
    {
        _options = options;
        Folder = folder;
        _ownsFolder = ownsFolder;
        Errors = new ErrorLog(options.Name, options.IgnoreErrorsFrom);
    }

    public string Name => _options.Name;
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");
    public int Port { get; private set; }

    /// <summary>The folder of the SQLite file (null for a cluster node).</summary>
    public string? Folder { get; }
    public string DbPath => Path.Combine(Folder ?? throw new InvalidOperationException("This server has no SQLite file."), ServerOptions.DatabaseFile);
    public ErrorLog Errors { get; }

    /// <summary>Starts a server on a new SQLite file; settings are "Section:Key=value" overrides.</summary>
    public static Task<TestServer> StartAsync(params string[] settings) => StartAsync(new ServerOptions { Settings = settings });

    public static async Task<TestServer> StartAsync(ServerOptions options)
    {
        var folder = options.Folder;
        if (folder is null && options.Cluster is null)
        {
            folder = Directory.CreateTempSubdirectory("natter-test-").FullName;
        }

        var server = new TestServer(options, folder, ownsFolder: options.Folder is null && folder is not null);
        try
        {
            await server.StartOnAsync(0);
        }
        catch
        {
            server.DeleteFolder();
            throw;
        }

        return server;
    }

    private async Task StartOnAsync(int port)
    {
        var args = _options.Arguments(Folder ?? "", port, inProcess: true).ToArray();
        // After a stop the port can take a moment to be free again.
        for (var attempt = 0; ; attempt++)
        {
            var app = NatterApp.Create(args, b =>
            {
                b.Logging.AddProvider(Errors);
                b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = _options.ShutdownTimeout);
                _options.Services?.Invoke(b.Services);
            });
            try
            {
                await app.StartAsync().WaitAsync(Timeout);
                _app = app;
                Port = new Uri(app.Urls.First()).Port;
                return;
            }
            catch (IOException) when (attempt < 20 && port != 0)
            {
                await app.DisposeAsync();
                await Task.Delay(250);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }
    }

    public HttpClient Http(string? token = null) => TestUser.NewHttp(BaseUri, token);

    /// <summary>The running server's services (to look at its state, e.g. a socket's queue).</summary>
    public IServiceProvider Services => (_app ?? throw new InvalidOperationException("The server is not running.")).Services;

    /// <summary>Registers and logs in a user with a unique name.</summary>
    public async Task<TestUser> UserAsync(string prefix = "u")
    {
        var name = $"{prefix}{Guid.NewGuid():N}"[..Math.Min(32, prefix.Length + 10)];
        return (await TestUser.RegisterAsync(BaseUri, name)).At(this);
    }

    /// <summary>
    /// Registers and logs in users with exactly these names, in order (for a server of the test's own, where the
    /// names are free). Several at once: <c>var (amy, ben) = await server.UsersNamedAsync("amy", "ben");</c>
    /// </summary>
    public async Task<TestUser[]> UsersNamedAsync(params string[] names)
    {
        var users = new TestUser[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            users[i] = (await TestUser.RegisterAsync(BaseUri, names[i])).At(this);
        }

        return users;
    }

    /// <summary>A socket to this server with the user's token; closed at the latest when the server stops.</summary>
    public async Task<TestSocket> ConnectAsync(TestUser user, Action<ClientWebSocketOptions>? options = null)
    {
        var socket = await TestSocket.ConnectAsync(new Uri(BaseUri, "/ws"), user.Token, options, name: user.Username);
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        return socket;
    }

    /// <summary>Stops the server (its sockets close with 1001); the port and the data are kept for <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is not { } app)
        {
            return;
        }

        _app = null;
        try
        {
            await app.StopAsync().WaitAsync(_options.ShutdownTimeout + Timeout);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    /// <summary>Stops the server if it runs and starts it again on the same port and data.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartOnAsync(Port);
    }

    public async ValueTask DisposeAsync()
    {
        TestSocket[] sockets;
        lock (_sockets)
        {
            sockets = [.. _sockets];
        }

        foreach (var s in sockets)
        {
            await s.DisposeAsync();
        }

        try
        {
            await StopAsync();
        }
        finally
        {
            DeleteFolder();
        }

        Errors.AssertNone();
    }

    private void DeleteFolder()
    {
        if (!_ownsFolder || Folder is null)
        {
            return;
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
    }
}
