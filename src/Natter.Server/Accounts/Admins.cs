using Microsoft.Extensions.Options;

namespace Natter.Server.Accounts;

/// <summary>Server admins: the usernames listed in Natter:Admins (case-insensitive, as usernames are stored lower-case).</summary>
public sealed class Admins(IOptions<NatterOptions> options)
{
    private readonly HashSet<string> _names = new(options.Value.Admins, StringComparer.OrdinalIgnoreCase);

    public bool Contains(string username) => _names.Contains(username);
}
