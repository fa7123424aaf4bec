using System.Text;
using Geralt;
using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>
/// Argon2id through libsodium (Geralt). The stored string is libsodium's self-describing encoding
/// ($argon2id$v=19$m=…,t=…,p=1$salt$hash), so parameters can change without breaking old hashes.
/// </summary>
public sealed class PasswordHasher(IOptions<NatterOptions> options)
{
    private readonly int _iterations = options.Value.Auth.Argon2Iterations;
    private readonly int _memoryBytes = options.Value.Auth.Argon2MemoryKiB * 1024;

    // A hash of a random password, verified when the user does not exist, so both cases take the same time.
    private readonly Lazy<string> _dummy = new(() => HashCore("natter-dummy-password-" + Guid.NewGuid(), options.Value.Auth.Argon2Iterations, options.Value.Auth.Argon2MemoryKiB * 1024));

    public string Hash(string password) => HashCore(password, _iterations, _memoryBytes);

    private static string HashCore(string password, int iterations, int memoryBytes)
    {
        Span<char> hash = stackalloc char[Argon2id.HashSize];
        Argon2id.ComputeHash(hash, Encoding.UTF8.GetBytes(password), iterations, memoryBytes);
        return new string(hash).TrimEnd('\0');
    }

    public bool Verify(string? storedHash, string password)
    {
        var hash = storedHash ?? _dummy.Value;
        try
        {
            return Argon2id.VerifyHash(hash.AsSpan(), Encoding.UTF8.GetBytes(password)) && storedHash is not null;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
