using System.Text;
using Geralt;
using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>
/// Argon2id through libsodium (Geralt). The stored string is libsodium's self-describing encoding
/// ($argon2id$v=19$m=…,t=…,p=1$salt$hash), so parameters can change without breaking old hashes.
/// At most Auth:PasswordHashConcurrency hashes run at once and Auth:PasswordHashQueue more may wait; past that the
/// caller is told the server is busy (503), so a flood of logins or registrations cannot take every core and the
/// memory of every hash at once (health checks and chat keep running).
/// </summary>
public sealed class PasswordHasher : IDisposable
{
    private readonly int _iterations;
    private readonly int _memoryBytes;
    private readonly int _admitted;
    private readonly SemaphoreSlim _slots;
    private int _inFlight;

    // A hash of a random password, verified when the user does not exist, so both cases take the same time.
    private readonly Lazy<string> _dummy;

    public PasswordHasher(IOptions<NatterOptions> options)
    {
        var auth = options.Value.Auth;
        _iterations = auth.Argon2Iterations;
        _memoryBytes = auth.Argon2MemoryKiB * 1024;
        _slots = new SemaphoreSlim(auth.PasswordHashConcurrency, auth.PasswordHashConcurrency);
        _admitted = auth.PasswordHashConcurrency + auth.PasswordHashQueue;
        _dummy = new(() => HashCore("natter-dummy-password-" + Guid.NewGuid(), _iterations, _memoryBytes));
    }

    /// <summary>The hash; null when too many hashes are running and waiting (answer 503).</summary>
    public async Task<string?> TryHashAsync(string password, CancellationToken ct)
    {
        var (ran, hash) = await RunAsync(() => HashCore(password, _iterations, _memoryBytes), ct);
        return ran ? hash : null;
    }

    /// <summary>Whether the password matches (an unknown user, a null hash, never does); null when busy (answer 503).</summary>
    public async Task<bool?> TryVerifyAsync(string? storedHash, string password, CancellationToken ct)
    {
        var (ran, ok) = await RunAsync(() => Verify(storedHash, password), ct);
        return ran ? ok : null;
    }

    private async Task<(bool Ran, T Result)> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        if (Interlocked.Increment(ref _inFlight) > _admitted)
        {
            Interlocked.Decrement(ref _inFlight);
            return (false, default!);
        }

        try
        {
            await _slots.WaitAsync(ct);
            try
            {
                return (true, await Task.Run(work, ct));
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static string HashCore(string password, int iterations, int memoryBytes)
    {
        Span<char> hash = stackalloc char[Argon2id.HashSize];
        Argon2id.ComputeHash(hash, Encoding.UTF8.GetBytes(password), iterations, memoryBytes);
        return new string(hash).TrimEnd('\0');
    }

    private bool Verify(string? storedHash, string password)
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

    public void Dispose() => _slots.Dispose();
}
