namespace Natter.Client;

/// <summary>Connection behaviour of a <see cref="NatterClient"/>.</summary>
public sealed class NatterClientOptions
{
    /// <summary>Reconnect automatically (with backoff) when the socket ends for any reason but logout (<see cref="Natter.Protocol.CloseCodes.LoggedOut"/>) or a disabled account (<see cref="Natter.Protocol.CloseCodes.AccountDisabled"/>).</summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>First reconnect delay; doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>, with jitter.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time allowed for the upgrade plus the welcome frame.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>WebSocket keep-alive (ping) interval; zero disables.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Called before each reconnect attempt (attempt number from 1), e.g. to refresh credentials or gate reconnects.</summary>
    public Func<int, CancellationToken, ValueTask>? BeforeReconnect { get; set; }

    /// <summary>Largest incoming frame accepted; the server's default limit is 64 KiB.</summary>
    public int MaxFrameBytes { get; set; } = 1 << 20;
}
