using Microsoft.Extensions.Logging;

namespace Natter.BrowserTests;

/// <summary>Collects the server's Error and Critical log lines so a test can fail on them.</summary>
public sealed class ErrorLogCollector : ILoggerProvider
{
    readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose() { }

    sealed class Collector(ErrorLogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lock (owner._lines) owner._lines.Add($"{logLevel} {category}[{eventId.Id}]: {formatter(state, exception)} {exception?.GetType().Name}");
        }
    }
}
