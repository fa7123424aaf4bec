using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Natter.TestSupport;

/// <summary>
/// Collects the Error and Critical lines a server under test logs: a test fails when there are any
/// (<see cref="TestServer"/> checks when it is disposed; a test may check earlier with <see cref="AssertNone"/>).
/// </summary>
public sealed class ErrorLog(string server, IReadOnlyList<string> ignoredCategories) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public void AssertNone() =>
        Assert.True(_lines.IsEmpty, $"The server logged errors:\n{string.Join("\n", _lines)}");

    public ILogger CreateLogger(string categoryName) =>
        ignoredCategories.Any(c => categoryName.StartsWith(c, StringComparison.Ordinal)) ? Ignored.Instance : new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(ErrorLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._lines.Enqueue($"[{owner.Server}] {logLevel} {category}[{eventId.Id}]: {formatter(state, exception)} {exception}");
            }
        }
    }

    private sealed class Ignored : ILogger
    {
        public static readonly Ignored Instance = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }

    private string Server => server;
}
