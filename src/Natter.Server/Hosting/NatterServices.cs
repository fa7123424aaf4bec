using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Natter.Server.Accounts;
using Natter.Server.Api;
using Natter.Server.Bus;
using Natter.Server.Bus.InProcess;
using Natter.Server.Bus.Redis;
using Natter.Server.Entry;
using Natter.Server.Entry.Direct;
using Natter.Server.Files;
using Natter.Server.Delivery;
using Natter.Server.Sending;
using Natter.Server.Rooms;
using Natter.Server.Search;
using Natter.Server.Storage;
using Natter.Server.Storage.MySql;
using Natter.Server.Storage.Sqlite;

namespace Natter.Server.Hosting;

public static class NatterServices
{
    /// <summary>Everything the server needs; the store and the bus are chosen by configuration.</summary>
    public static IServiceCollection AddNatter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<NatterOptions>().Bind(configuration.GetSection(NatterOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NatterOptions>, NatterOptionsValidator>();
        services.AddSingleton<IValidateOptions<NatterOptions>, ModeValidator>();
        services.AddSingleton(TimeProvider.System);

        var storage = configuration.GetSection(NatterOptions.Section).GetValue<string>("Storage:Provider") ?? "sqlite";
        var bus = configuration.GetSection(NatterOptions.Section).GetValue<string>("Bus:Provider") ?? "inprocess";
        services.AddStore(storage);
        services.AddBus(bus);
        services.AddNatterTelemetry(configuration);

        services.AddMetrics();
        services.AddSingleton<NatterMetrics>();

        services.AddSingleton<OriginPolicy>();

        // Features beside the path.
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<Admins>();
        services.AddSingleton<SessionActivity>();
        services.AddSingleton<DeviceCookies>();
        services.AddSingleton<RegistrationLimit>();
        services.AddSingleton<RoomCreationLimit>();
        services.AddSingleton<SearchLimit>();
        services.AddSingleton<RoomDirectory>();
        services.AddSingleton<RoomService>();
        services.AddSingleton<RoomChanges>();
        services.AddSingleton<RoomModeration>();
        services.AddSingleton<FileSweepSignal>();
        services.AddSingleton<Thumbnailer>();
        services.AddSingleton<FileUploads>();
        services.AddHostedService<FileSweeper>();

        // The path of a message: entry → sending → store → bus → delivery.
        services.AddSingleton<SocketPresence>();
        services.AddSingleton<SocketLimits>();
        services.AddSingleton<FrameHandlers>();
        services.AddSingleton<ReceiveLoop>();
        services.AddSingleton<SocketAcceptor>();
        services.AddSingleton<SessionExpiry>();
        services.AddSingleton<TokenCheck>();
        services.AddSingleton<DirectUpgrade>();
        services.AddSingleton<SendRateLimiter>();
        services.AddSingleton<EventIntake>();
        services.AddSingleton<MentionFinder>();
        services.AddSingleton<SendService>();
        services.AddSingleton<EditService>();
        services.AddSingleton<DeleteService>();
        services.AddSingleton<ReactService>();
        services.AddSingleton<StoreHealth>();
        services.AddSingleton<IRoomLogReader, StoreRoomLogReader>();
        services.AddSingleton<ConnectionFactory>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<ILocalInterest>(sp => sp.GetRequiredService<ConnectionRegistry>());

        // Lifecycle first: its StartingAsync creates the schema before the workers start.
        services.AddSingleton<Lifecycle>();
        services.AddHostedService(sp => sp.GetRequiredService<Lifecycle>());
        services.AddSingleton<IngestQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestQueue>());
        services.AddSingleton<Fanout>();
        services.AddHostedService(sp => sp.GetRequiredService<Fanout>());
        services.AddSingleton<IPresenceAudience>(sp => sp.GetRequiredService<Fanout>());
        services.AddHostedService<SessionSweeper>();

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<NatterOptions>>((f, natter) =>
        {
            // Only the configured proxies: ASP.NET's defaults (loopback) are cleared.
            f.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            f.KnownProxies.Clear();
            f.KnownIPNetworks.Clear();
            foreach (var proxy in natter.Value.Network.KnownProxies)
            {
                f.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }

            foreach (var network in natter.Value.Network.KnownNetworks)
            {
                f.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });

        services.AddAuthentication(NatterAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, NatterAuthentication>(NatterAuthentication.SchemeName, null);
        services.AddAuthorization();
        services.AddProblemDetails();
        services.AddExceptionHandler<StoreFaultHandler>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, AccountsJsonContext.Default);
        });

        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("store", tags: ["ready"])
            .AddCheck<QueueHealthCheck>("queue", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Every endpoint's connections pass <see cref="DirectUpgrade"/> first: a plain upgrade to /ws as the first
    /// request is answered there, anything else goes on to Kestrel's HTTP untouched. Kestrel keeps one endpoint-defaults
    /// callback: another ConfigureEndpointDefaults would replace this one. WebSocket:InlineTransport sets the socket
    /// transport's inline scheduling.
    /// </summary>
    public static IWebHostBuilder UseDirectSockets(this IWebHostBuilder webHost) =>
        webHost.ConfigureServices(services => services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>()
                .Configure<IOptions<NatterOptions>>((transport, natter) => transport.UnsafePreferInlineScheduling = natter.Value.WebSocket.InlineTransport))
            .ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Use(next =>
        {
            // An endpoint without HTTP/1.1 never sees a direct upgrade.
            if (!listen.Protocols.HasFlag(Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1))
            {
                return next;
            }

            var direct = listen.ApplicationServices.GetRequiredService<DirectUpgrade>();
            return connection => direct.OnConnectionAsync(connection, next);
        })));

    private static void AddStore(this IServiceCollection services, string provider)
    {
        services.AddSingleton<StoreWriteHealth>();
        switch (provider)
        {
            case "sqlite":
                services.AddSingleton<SqliteChatStore>();
                services.AddSingleton<IFileBytes, FolderFileBytes>();
                services.AddSingleton<IChatStore>(sp => new GuardedChatStore(sp.GetRequiredService<SqliteChatStore>(), sp.GetRequiredService<StoreWriteHealth>()));
                break;
            case "mysql":
                services.AddSingleton<MySqlChatStore>();
                services.AddSingleton<IFileBytes, MySqlFileBytes>();
                services.AddSingleton<IChatStore>(sp => new GuardedChatStore(sp.GetRequiredService<MySqlChatStore>(), sp.GetRequiredService<StoreWriteHealth>()));
                break;
            default:
                throw new InvalidOperationException($"Natter:Storage:Provider '{provider}' is not available in this build.");
        }
    }

    private static void AddBus(this IServiceCollection services, string provider)
    {
        switch (provider)
        {
            case "inprocess":
                services.AddSingleton<IMessageBus, InProcessBus>();
                services.AddSingleton<IPresence, InProcessPresence>();
                break;
            case "redis":
                // Registered before Lifecycle: Redis is connected and subscribed before the schema and the workers start.
                services.AddSingleton<RedisConnection>();
                services.AddHostedService(sp => sp.GetRequiredService<RedisConnection>());
                services.AddSingleton<RedisBus>();
                services.AddSingleton<IMessageBus>(sp => sp.GetRequiredService<RedisBus>());
                services.AddHostedService(sp => sp.GetRequiredService<RedisBus>());
                services.AddSingleton<RedisPresence>();
                services.AddSingleton<IPresence>(sp => sp.GetRequiredService<RedisPresence>());
                services.AddHostedService(sp => sp.GetRequiredService<RedisPresence>());
                break;
            default:
                throw new InvalidOperationException($"Natter:Bus:Provider '{provider}' is not available in this build.");
        }
    }

    /// <summary>Rules across settings that attributes cannot say.</summary>
    private sealed class ModeValidator : IValidateOptions<NatterOptions>
    {
        public ValidateOptionsResult Validate(string? name, NatterOptions o)
        {
            var errors = new List<string>();
            if (o.Storage.Provider == "mysql" && string.IsNullOrWhiteSpace(o.Storage.MySqlConnectionString))
            {
                errors.Add("Natter:Storage:MySqlConnectionString is required when Natter:Storage:Provider is mysql.");
            }

            if (o.Bus.Provider == "redis" && string.IsNullOrWhiteSpace(o.Bus.RedisConnectionString))
            {
                errors.Add("Natter:Bus:RedisConnectionString is required when Natter:Bus:Provider is redis.");
            }

            if (o.Limits.SendBurst < 1 || o.Limits.SendsPerSecond < 1)
            {
                errors.Add("Natter:Limits:SendsPerSecond and SendBurst are 1 or more.");
            }

            foreach (var proxy in o.Network.KnownProxies)
            {
                if (!System.Net.IPAddress.TryParse(proxy, out _))
                {
                    errors.Add($"Natter:Network:KnownProxies: '{proxy}' is not an IP address.");
                }
            }

            foreach (var network in o.Network.KnownNetworks)
            {
                if (!System.Net.IPNetwork.TryParse(network, out _))
                {
                    errors.Add($"Natter:Network:KnownNetworks: '{network}' is not a network in CIDR notation.");
                }
            }

            if (o.Auth.DeviceCookieKey is { Length: > 0 } key && !IsKey(key))
            {
                errors.Add("Natter:Auth:DeviceCookieKey is base64 of at least 32 bytes.");
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }

        private static bool IsKey(string base64)
        {
            Span<byte> bytes = stackalloc byte[base64.Length];
            return Convert.TryFromBase64String(base64, bytes, out var n) && n >= 32;
        }
    }
}

internal sealed class StoreHealthCheck(IChatStore store, StoreWriteHealth health) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (!await store.PingAsync(cancellationToken))
            {
                return HealthCheckResult.Unhealthy("the store does not answer");
            }
        }
        catch (Exception e) when (StoreFaults.Is(e))
        {
            return HealthCheckResult.Unhealthy("the store does not answer: " + e.Message);
        }

        // Degraded (reads work, writes do not), which /healthz and /healthz/ready answer with 503 like Unhealthy;
        // the health service logs it as a warning, not as an error on every probe.
        return health.WriteFailure is { } failure ? HealthCheckResult.Degraded("the store refuses writes: " + failure) : HealthCheckResult.Healthy();
    }
}

internal sealed class QueueHealthCheck(IngestQueue ingest, IMessageBus bus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(!ingest.IsRunning ? HealthCheckResult.Unhealthy("the ingest writer is not running")
            : !bus.IsHealthy ? HealthCheckResult.Unhealthy("the bus is not connected")
            : HealthCheckResult.Healthy());
}
