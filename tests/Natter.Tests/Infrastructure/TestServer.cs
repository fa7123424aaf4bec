using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Natter.Server;

namespace Natter.Tests.Infrastructure;

/// <summary>
/// The application under test: the real server on real Kestrel at 127.0.0.1 on a port the OS picks, with its own
/// SQLite file in a temporary folder. Disposing stops it and fails the test if the server logged an error.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly WebApplication _app;
    private readonly ErrorLog _errors = new();
    private readonly List<TestSocket> _sockets = [];

    private TestServer(WebApplication app, string folder, ErrorLog errors)
    {
        _app = app;
        Folder = folder;
        _errors = errors;
    }

    public string Folder { get; }

    /// <summary>Keep the SQLite file after dispose (for a restart on the same file).</summary>
    public bool KeepFolder { get; set; }
    public Uri BaseUri { get; private set; } = null!;
    public string DbPath => Path.Combine(Folder, "natter.db");
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server; settings are "Section:Key=value" overrides.</summary>
    public static Task<TestServer> StartAsync(params string[] settings) =>
        StartInAsync(Directory.CreateTempSubdirectory("natter-test-").FullName, settings);

    /// <summary>Starts a server on the SQLite file of an earlier one (a restart).</summary>
    public static async Task<TestServer> StartInAsync(string folder, string[] settings)
    {
        var args = new List<string>
        {
            "--urls", "http://127.0.0.1:0",
            $"--Natter:Storage:SqlitePath={Path.Combine(folder, "natter.db")}",
            // NORMAL keeps the suite fast; the durability tests run the real default (FULL) in a separate process.
            "--Natter:Storage:SqliteSynchronous=NORMAL",
            "--Natter:Auth:Argon2Iterations=1",
            "--Natter:Auth:Argon2MemoryKiB=8192",
            "--Natter:WebSocket:CloseTimeout=00:00:02",
            "--Logging:LogLevel:Default=Warning",
        };
        args.AddRange(settings.Select(s => "--" + s));
        var errors = new ErrorLog();
        var app = NatterApp.Create([.. args], b =>
        {
            b.Logging.AddProvider(errors);
            b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        });
        var server = new TestServer(app, folder, errors);
        await app.StartAsync().WaitAsync(Timeout);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address);
        return server;
    }

    public HttpClient Http(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseUri, Timeout = Timeout };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>Registers and logs in a user with a unique name; returns the user.</summary>
    public async Task<TestUser> UserAsync(string prefix = "u")
    {
        var name = $"{prefix}{Guid.NewGuid():N}"[..Math.Min(32, prefix.Length + 10)];
        const string password = "correct horse battery";
        using var http = Http();
        var reg = await http.PostAsJsonAsync("/api/register", new { username = name, password });
        reg.EnsureSuccessStatusCode();
        var login = await http.PostAsJsonAsync("/api/login", new { username = name, password });
        login.EnsureSuccessStatusCode();
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return new TestUser(this, name, body.GetProperty("token").GetString()!);
    }

    public async Task<TestSocket> ConnectAsync(TestUser user, Action<System.Net.WebSockets.ClientWebSocketOptions>? options = null)
    {
        var socket = await TestSocket.ConnectAsync(new Uri(BaseUri, "/ws"), user.Token, options);
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        return socket;
    }

    public async Task StopAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
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
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await _app.DisposeAsync();
            if (!KeepFolder)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                try
                {
                    Directory.Delete(Folder, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }

        Assert.True(_errors.Entries.IsEmpty, "The server logged errors:\n" + string.Join("\n", _errors.Entries));
    }

    /// <summary>Collects every error the server logs.</summary>
    private sealed class ErrorLog : ILoggerProvider
    {
        public ConcurrentQueue<string> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ErrorLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Error)
                {
                    log.Entries.Enqueue($"{category}: {formatter(state, exception)} {exception}");
                }
            }
        }
    }
}

public sealed record TestUser(TestServer Server, string Username, string Token)
{
    public HttpClient Http() => Server.Http(Token);

    public Task<TestSocket> ConnectAsync() => Server.ConnectAsync(this);

    /// <summary>Creates a group room; returns its id.</summary>
    public async Task<string> CreateRoomAsync(string name = "room")
    {
        using var http = Http();
        var r = await http.PostAsJsonAsync("/api/rooms", new { name });
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public async Task JoinAsync(string roomId)
    {
        using var http = Http();
        var r = await http.PostAsync($"/api/rooms/{roomId}/join", null);
        Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
    }

    public async Task<JsonElement[]> HistoryAsync(string roomId, string query = "")
    {
        using var http = Http();
        var r = await http.GetAsync($"/api/rooms/{roomId}/messages{query}");
        Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
        return await r.Content.ReadFromJsonAsync<JsonElement[]>() ?? [];
    }

    /// <summary>Every stored message of a room, oldest first, paging through history.</summary>
    public async Task<List<JsonElement>> AllMessagesAsync(string roomId)
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await HistoryAsync(roomId, $"?after={after}&limit=200");
            all.AddRange(page);
            if (page.Length < 200)
            {
                return all;
            }

            after = page[^1].GetProperty("seq").GetInt64();
        }
    }
}
