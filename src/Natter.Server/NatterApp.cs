using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Natter.Server.Accounts;
using Natter.Server.Api;
using Natter.Server.Entry;
using Natter.Server.Files;
using Natter.Server.Hosting;
using Natter.Server.Rooms;
using Natter.Server.Search;

namespace Natter.Server;

/// <summary>Builds the whole server; Program.cs and the tests both start it from here.</summary>
public static class NatterApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json and wwwroot travel with the binary, so the server starts the same from any folder;
        // relative paths in configuration (the SQLite file) are relative to the working folder. --webroot still wins.
        var webRoot = new ConfigurationBuilder().AddCommandLine(args).Build()["webroot"];
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = webRoot ?? Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.Services.AddNatter(builder.Configuration);
        builder.WebHost.UseDirectSockets();
        AddManagementAddress(builder);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        configure?.Invoke(builder);

        var app = builder.Build();

        // Client address and scheme from X-Forwarded-* of configured proxies only. Without any, the middleware
        // would believe every sender, so it is not added at all.
        var network = app.Services.GetRequiredService<IOptions<NatterOptions>>().Value.Network;
        if (network.KnownProxies.Length + network.KnownNetworks.Length > 0)
        {
            app.UseForwardedHeaders();
        }

        app.UseMiddleware<SecurityHeaders>();
        app.UseMiddleware<ManagementEndpoints>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseWebSockets();
        app.UseMiddleware<CsrfGuard>();

        // /ws is answered ahead of authentication (SocketAcceptor checks the token itself): what the authentication
        // and authorization middleware keep would otherwise stay with each socket for its life.
        app.MapWhen(http => SocketAcceptor.IsSocketPath(http.Request.Path),
            ws => ws.Run(http => http.RequestServices.GetRequiredService<SocketAcceptor>().HandleAsync(http)));
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapAccountsApi();
        app.MapRoomsApi();
        app.MapMessagesApi();
        app.MapFilesApi();
        app.MapSearchApi();
        app.MapConfigApi();
        app.MapHealthChecks("/healthz", Ready(_ => true));
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/healthz/ready", Ready(c => c.Tags.Contains("ready")));
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>With Metrics:Url, the server listens there too, besides its usual addresses.</summary>
    private static void AddManagementAddress(WebApplicationBuilder builder)
    {
        var url = builder.Configuration[$"{NatterOptions.Section}:Metrics:Url"];
        if (string.IsNullOrEmpty(url))
        {
            return;
        }

        var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey);
        if (string.IsNullOrEmpty(urls))
        {
            var ports = builder.Configuration["HTTP_PORTS"] ?? builder.Configuration["ASPNETCORE_HTTP_PORTS"];
            urls = string.IsNullOrEmpty(ports)
                ? "http://localhost:5000"
                : string.Join(';', ports.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"http://*:{p}"));
        }

        builder.WebHost.UseUrls($"{urls};{url.TrimEnd('/')}");
    }

    /// <summary>Degraded (the store refuses writes) is not ready: 503, as Unhealthy.</summary>
    private static HealthCheckOptions Ready(Func<HealthCheckRegistration, bool> predicate) => new()
    {
        Predicate = predicate,
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };
}
