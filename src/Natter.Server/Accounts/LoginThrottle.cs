using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>
/// Counts failed logins within a sliding window. A login from a browser without a device cookie for that user counts
/// against the username and the client address; once either reaches its limit, such logins get 429 until the oldest
/// failure leaves the window. A login with a valid device cookie (<see cref="DeviceCookies"/>) counts against that
/// device alone (LoginFailuresPerUser), so the owner's browsers keep getting in while the username is locked for
/// everyone else. Per node: in a cluster each node counts on its own (docs/cluster.md).
/// </summary>
public sealed class LoginThrottle(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly AuthOptions _auth = options.Value.Auth;
    private readonly WindowCounter _failures = new(options.Value.Auth.LoginFailureWindow, clock);

    /// <summary>Null when a login may be tried, else how long to wait.</summary>
    public TimeSpan? RetryAfter(string username, string address, string? device = null) =>
        device is not null
            ? _failures.RetryAfter("d:" + device, _auth.LoginFailuresPerUser)
            : Longer(_failures.RetryAfter("u:" + username, _auth.LoginFailuresPerUser), _failures.RetryAfter("a:" + address, _auth.LoginFailuresPerAddress));

    public void RecordFailure(string username, string address, string? device = null)
    {
        if (device is not null)
        {
            _failures.Add("d:" + device);
            return;
        }

        _failures.Add("u:" + username);
        _failures.Add("a:" + address);
    }

    public void RecordSuccess(string username, string? device = null)
    {
        _failures.Clear("u:" + username);
        if (device is not null)
        {
            _failures.Clear("d:" + device);
        }
    }

    private static TimeSpan? Longer(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
