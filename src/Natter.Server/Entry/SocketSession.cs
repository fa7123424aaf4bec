using Natter.Protocol;
using Natter.Server.Delivery;

namespace Natter.Server.Entry;

/// <summary>
/// What the receive loop knows about one socket: its connection and caller, and the bad frames it sent in the last
/// minute (past Limits.BadFramesPerMinute the socket is closed with 1008), and its ping allowance (a token bucket of
/// Limits.PingsPerSecond, burst twice that).
/// </summary>
public sealed class SocketSession(Connection connection, Caller caller, NatterMetrics metrics, int badFramesPerMinute, int pingsPerSecond, ILogger logger)
{
    private readonly Queue<long> _badFrames = new();
    private double _pingTokens = 2 * pingsPerSecond;
    private long _pingStamp = Environment.TickCount64;

    public Connection Connection { get; } = connection;

    public Caller Caller { get; } = caller;

    /// <summary>Set once the socket sent too many bad frames: the receive loop closes it with 1008.</summary>
    public bool TooManyBadFrames { get; private set; }

    /// <summary>Answers with an error frame; a refusal other than rate_limited or internal counts as a bad frame.</summary>
    public void Refuse(string code, string message, string? reference)
    {
        Connection.SendError(code, message, reference);
        if (code is ErrorCodes.RateLimited or ErrorCodes.Internal)
        {
            return;
        }

        metrics.BadFrames.Add(1);
        var now = Environment.TickCount64;
        _badFrames.Enqueue(now);
        while (_badFrames.Count > 0 && now - _badFrames.Peek() > 60_000)
        {
            _badFrames.Dequeue();
        }

        if (_badFrames.Count > badFramesPerMinute && !TooManyBadFrames)
        {
            TooManyBadFrames = true;
            Log.SocketPolicyClose(logger, Connection.Id, Connection.Username, CloseCodes.PolicyViolation, "too many bad frames");
        }
    }

    public void Refuse(Sending.Refusal refusal, string? reference) => Refuse(refusal.Code, refusal.Message, reference);

    /// <summary>True when a ping may be answered now (one token taken); false when the socket pings too often.</summary>
    public bool TryPing()
    {
        var now = Environment.TickCount64;
        _pingTokens = Math.Min(2.0 * pingsPerSecond, _pingTokens + ((now - _pingStamp) * pingsPerSecond / 1000.0));
        _pingStamp = now;
        if (_pingTokens < 1)
        {
            return false;
        }

        _pingTokens--;
        return true;
    }
}
