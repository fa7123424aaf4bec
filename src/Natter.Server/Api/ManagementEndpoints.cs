using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Natter.Server.Api;

/// <summary>
/// Who may read /metrics. With Metrics:Url, the server also listens on that management address, which serves
/// /metrics and /healthz* only, and the chat port no longer serves /metrics. With Metrics:Token, /metrics needs
/// "Authorization: Bearer &lt;token&gt;". With neither, /metrics is not served at all (404): counters are not for
/// whoever reaches the chat port.
/// </summary>
public sealed class ManagementEndpoints(RequestDelegate next, IOptions<NatterOptions> options)
{
    private readonly int _port = ManagementPort(options.Value.Metrics);
    private readonly byte[]? _token = options.Value.Metrics.Token is { Length: > 0 } t ? SHA256.HashData(Encoding.UTF8.GetBytes(t)) : null;

    /// <summary>The management port from Metrics:Url; 0 when there is none.</summary>
    public static int ManagementPort(MetricsOptions metrics) => metrics.Url is { Length: > 0 } url ? new Uri(url).Port : 0;

    public async Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path;
        var onManagement = _port != 0 && http.Connection.LocalPort == _port;
        var isMetrics = path.Equals("/metrics", StringComparison.OrdinalIgnoreCase);
        if (onManagement && !isMetrics && !path.StartsWithSegments("/healthz"))
        {
            await Problems.NotFound("The management address serves /metrics and /healthz only.").ExecuteAsync(http);
            return;
        }

        if (isMetrics)
        {
            if (!onManagement && (_port != 0 || _token is null))
            {
                await Problems.NotFound("Metrics are not served here.").ExecuteAsync(http);
                return;
            }

            if (_token is not null && !HasToken(http.Request))
            {
                await Problems.Unauthorized("Metrics need their bearer token.").ExecuteAsync(http);
                return;
            }
        }

        await next(http);
    }

    private bool HasToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim())), _token);
    }
}
