using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>Registrations per client address per hour (Limits:RegistrationsPerAddressPerHour): each costs a password hash and a user row.</summary>
public sealed class RegistrationLimit(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly WindowCounter _registered = new(TimeSpan.FromHours(1), clock);
    private readonly int _perHour = options.Value.Limits.RegistrationsPerAddressPerHour;

    /// <summary>Null when the address may register one more user now (it is counted), else how long to wait.</summary>
    public TimeSpan? TryRegister(string address) => _registered.TryAdd(address, _perHour);
}
