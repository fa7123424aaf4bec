using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Natter.Protocol;

namespace Natter.Server.Api;

/// <summary>
/// GET /api/config: the limits a client checks before it sends (text length, send rate, the username and
/// password rules), so the browser reads them from the server instead of keeping copies. No session needed:
/// the login page uses it.
/// </summary>
public static class ConfigApi
{
    public static RouteHandlerBuilder MapConfigApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/config", Get).AllowAnonymous();

    public static Ok<ConfigDto> Get(IOptions<NatterOptions> options)
    {
        var limits = options.Value.Limits;
        return TypedResults.Ok(new ConfigDto(
            MaxText: limits.MaxTextCodePoints,
            SendsPerSecond: limits.SendsPerSecond,
            SendBurst: limits.SendBurst,
            EventsPerSecond: limits.EventsPerSecond,
            UsernamePattern: Validation.UsernamePattern,
            UsernameMin: Validation.UsernameMin,
            UsernameMax: Validation.UsernameMax,
            PasswordMin: Validation.PasswordMin,
            PasswordMax: Validation.PasswordMax,
            RoomNameMax: Validation.RoomNameMax,
            MaxUploadBytes: options.Value.Files.MaxUploadBytes));
    }
}
