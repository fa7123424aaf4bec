using Microsoft.Extensions.Options;

namespace Natter.Server.Api;

/// <summary>Which browser origins may act on this server: its own, and those in WebSocket:AllowedOrigins ("*" allows any).</summary>
public sealed class OriginPolicy(IOptions<NatterOptions> options)
{
    private readonly string[] _allowed = [.. options.Value.WebSocket.AllowedOrigins.Select(o => o.TrimEnd('/'))];

    /// <summary>True for the request's own origin (scheme and host as the server sees them) or an allowed one.</summary>
    public bool IsAllowed(HttpRequest request, string origin) => IsAllowed(request.Scheme, request.Host.ToString(), origin);

    /// <summary>The same for a request read without the request pipeline (the socket's direct upgrade).</summary>
    public bool IsAllowed(string scheme, string host, string origin) =>
        string.Equals(origin, $"{scheme}://{host}", StringComparison.OrdinalIgnoreCase)
        || _allowed.Any(o => o == "*" || string.Equals(o, origin, StringComparison.OrdinalIgnoreCase));
}
