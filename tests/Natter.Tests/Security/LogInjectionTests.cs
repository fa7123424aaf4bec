using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 9: user input in log lines cannot forge lines or hide text (control characters are escaped).</summary>
public sealed class LogInjectionTests
{
    [Fact]
    public async Task Usernames_and_origins_are_logged_with_control_characters_escaped()
    {
        await using var server = await TestServer.StartAsync("Logging:LogLevel:Natter=Information", "Natter:Auth:LoginFailuresPerUser=1");
        var log = new CapturingLog();
        server.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
        var user = await server.UserAsync();

        using var http = server.Http();
        const string forged = "x\r\n2026-01-01 info: Natter: User admin logged in\u001b[2J\u202E";
        await http.PostAsJsonAsync("/api/login", new { username = forged, password = "wrong password" });
        await http.PostAsJsonAsync("/api/login", new { username = forged, password = "wrong password" });

        var origin = "http://evil.example\tx";
        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            TestSocket.ConnectAsync(new Uri(server.BaseUri, "/ws"), user.Token, o => o.SetRequestHeader("Origin", origin)));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);

        var lines = log.Entries.ToArray();
        var failed = lines.Where(l => l.Message.StartsWith("Login failed", StringComparison.Ordinal)).ToArray();
        var throttled = lines.Where(l => l.Message.StartsWith("Login throttled", StringComparison.Ordinal)).ToArray();
        var origins = lines.Where(l => l.Message.Contains("origin", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(failed);
        Assert.NotEmpty(throttled);
        Assert.NotEmpty(origins);
        foreach (var line in failed.Concat(throttled).Concat(origins))
        {
            Assert.DoesNotContain(line.Message, c => char.IsControl(c) || c is '\u202E' or '\u2028' or '\u2029');
            foreach (var (_, value) in line.Fields)
            {
                Assert.DoesNotContain(value?.ToString() ?? "", c => char.IsControl(c) || c is '\u202E');
            }
        }

        Assert.Contains(failed, l => l.Message.Contains("\\u000d\\u000a", StringComparison.OrdinalIgnoreCase));
    }

    private sealed record Entry(string Message, IReadOnlyList<KeyValuePair<string, object?>> Fields);

    private sealed class CapturingLog : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLog log) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                log.Entries.Enqueue(new Entry(formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
        }
    }
}
