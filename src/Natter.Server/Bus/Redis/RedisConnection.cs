using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Natter.Server.Bus.Redis;

/// <summary>
/// The node's one ConnectionMultiplexer, shared by the bus and presence. Connected before anything else starts:
/// a Redis that cannot be reached within the connect timeout stops the server with a clear message. Afterwards
/// the multiplexer reconnects by itself (AbortOnConnectFail=false) and resubscribes.
/// </summary>
public sealed class RedisConnection(IOptions<NatterOptions> options, ILogger<RedisConnection> logger)
    : IHostedLifecycleService, IAsyncDisposable
{
    private readonly BusOptions _options = options.Value.Bus;
    private ConnectionMultiplexer? _mux;

    /// <summary>This process's id in the cluster: the node name and a random suffix, so a restarted node is a new node.</summary>
    public string NodeId { get; } = $"{options.Value.NodeName ?? $"{Environment.MachineName}-{Environment.ProcessId}"}-{Guid.NewGuid().ToString("N")[..6]}";

    public RedisChannels Names { get; } = new(options.Value.Bus.RedisPrefix);

    public ConnectionMultiplexer Multiplexer => _mux ?? throw new InvalidOperationException("Redis is not connected yet.");

    public bool IsConnected => _mux?.IsConnected == true;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var config = ConfigurationOptions.Parse(_options.RedisConnectionString
            ?? throw new InvalidOperationException("Natter:Bus:RedisConnectionString is not set."));
        config.AbortOnConnectFail = false;
        config.ClientName = NodeId;
        config.ConnectTimeout = (int)_options.RedisConnectTimeout.TotalMilliseconds;

        // Come back quickly after a Redis restart: retry from half a second, never waiting more than 5 s.
        config.ReconnectRetryPolicy = new ExponentialRetry(500, 5000);
        var where = string.Join(",", config.EndPoints.Select(e => e.ToString()));

        var mux = await ConnectionMultiplexer.ConnectAsync(config);
        var until = DateTime.UtcNow + _options.RedisConnectTimeout;
        while (!mux.IsConnected && DateTime.UtcNow < until)
        {
            await Task.Delay(50, cancellationToken);
        }

        if (!mux.IsConnected)
        {
            await mux.DisposeAsync();
            throw new InvalidOperationException(
                $"Redis at {where} cannot be reached within {_options.RedisConnectTimeout.TotalSeconds} s (Natter:Bus:RedisConnectionString); the server does not start without its bus.");
        }

        mux.ConnectionFailed += (_, e) => Log.RedisConnectionLost(logger, e.EndPoint?.ToString() ?? where, e.ConnectionType.ToString(), e.FailureType.ToString());
        mux.ConnectionRestored += (_, e) => Log.RedisConnectionRestored(logger, e.EndPoint?.ToString() ?? where, e.ConnectionType.ToString());
        _mux = mux;
        Log.RedisConnected(logger, where, NodeId);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_mux is not null)
        {
            await _mux.DisposeAsync();
        }
    }
}
