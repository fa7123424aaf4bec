using System.Security.Cryptography;
using System.Text;

namespace Natter.Server.Accounts;

/// <summary>Session tokens: 256 random bits, given to the client once; only their SHA-256 is stored.</summary>
public static class Tokens
{
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
