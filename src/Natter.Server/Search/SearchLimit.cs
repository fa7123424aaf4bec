using System.Globalization;
using Microsoft.Extensions.Options;

namespace Natter.Server.Search;

/// <summary>Searches one user may run per minute (Limits:SearchesPerMinute): each reads the word index and the messages it finds.</summary>
public sealed class SearchLimit(IOptions<NatterOptions> options, TimeProvider clock)
{
    private readonly WindowCounter _searched = new(TimeSpan.FromMinutes(1), clock);

    public int PerMinute { get; } = options.Value.Limits.SearchesPerMinute;

    /// <summary>Null when the user may search once more now (it is counted), else how long to wait.</summary>
    public TimeSpan? TrySearch(long userId) => _searched.TryAdd(userId.ToString(CultureInfo.InvariantCulture), PerMinute);
}
