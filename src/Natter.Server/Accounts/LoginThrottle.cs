using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>
/// Counts failed logins per username and per client address within a sliding window. Once either count
/// reaches its limit, logins for that key get 429 until the oldest failure leaves the window.
/// Per node: in a cluster each node counts on its own (docs/cluster.md).
/// </summary>
public sealed class LoginThrottle(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly AuthOptions _auth = options.Value.Auth;
    private readonly WindowCounter _failures = new(options.Value.Auth.LoginFailureWindow, clock);

    /// <summary>Null when a login may be tried, else how long to wait.</summary>
    public TimeSpan? RetryAfter(string username, string address) =>
        Longer(_failures.RetryAfter("u:" + username, _auth.LoginFailuresPerUser), _failures.RetryAfter("a:" + address, _auth.LoginFailuresPerAddress));

    public void RecordFailure(string username, string address)
    {
        _failures.Add("u:" + username);
        _failures.Add("a:" + address);
    }

    public void RecordSuccess(string username) => _failures.Clear("u:" + username);

    private static TimeSpan? Longer(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
