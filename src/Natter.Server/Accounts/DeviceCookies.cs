using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>
/// Device cookies (OWASP "Slow down online guessing attacks with device cookies"): after a successful login the
/// browser gets a signed cookie naming the user, a random device id and an expiry. A login that presents a valid one
/// for the same username is throttled by that device's own failures instead of the username's and the address's, so
/// an attacker who locks a username out does not lock out the browsers its owner already used. The signing key is
/// Auth:DeviceCookieKey (the same on every node of a cluster) or, unset, a random key per process (a restart then
/// forgets devices: their owners are throttled like anyone until they log in once more).
/// </summary>
public sealed class DeviceCookies(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly byte[] _key = options.Value.Auth.DeviceCookieKey is { Length: > 0 } configured
        ? Convert.FromBase64String(configured)
        : RandomNumberGenerator.GetBytes(32);

    private readonly TimeSpan _lifetime = options.Value.Auth.DeviceCookieLifetime;

    public string CookieName { get; } = options.Value.Auth.CookieName + "_device";

    /// <summary>A new cookie value for this user and its expiry.</summary>
    public (string Value, DateTimeOffset Expires) Issue(string username)
    {
        var expires = clock.GetUtcNow() + _lifetime;
        var payload = string.Join('.',
            Base64Url(Encoding.UTF8.GetBytes(username)),
            Base64Url(RandomNumberGenerator.GetBytes(16)),
            expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        return (payload + "." + Base64Url(Mac(payload)), expires);
    }

    /// <summary>The device id when the cookie is genuine, unexpired and names this user; null otherwise.</summary>
    public string? DeviceOf(string? cookie, string username)
    {
        if (cookie is not { Length: > 0 and < 512 })
        {
            return null;
        }

        var parts = cookie.Split('.');
        if (parts.Length != 4)
        {
            return null;
        }

        var payload = string.Join('.', parts[0], parts[1], parts[2]);
        byte[] mac;
        try
        {
            mac = FromBase64Url(parts[3]);
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(payload))
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || DateTimeOffset.FromUnixTimeSeconds(expires) <= clock.GetUtcNow()
            || parts[0] != Base64Url(Encoding.UTF8.GetBytes(username)))
        {
            return null;
        }

        return parts[1];
    }

    private byte[] Mac(string payload) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(payload));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
