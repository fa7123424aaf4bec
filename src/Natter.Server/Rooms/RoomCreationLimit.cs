using System.Globalization;
using Microsoft.Extensions.Options;

namespace Natter.Server.Rooms;

/// <summary>Group rooms one user may create per hour (Limits:RoomCreationsPerHour), so nobody can flood the public list.</summary>
public sealed class RoomCreationLimit(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly WindowCounter _created = new(TimeSpan.FromHours(1), clock);
    private readonly int _perHour = options.Value.Limits.RoomCreationsPerHour;

    /// <summary>Null when the user may create one more room now (it is counted), else how long to wait.</summary>
    public TimeSpan? TryCreate(long userId) => _created.TryAdd(userId.ToString(CultureInfo.InvariantCulture), _perHour);
}
