using System.Runtime.ExceptionServices;

namespace Natter.TestSupport;

/// <summary>
/// What one cluster test starts (nodes, sockets, proxies, a Redis of its own), stopped in reverse order when the test
/// ends, and then its MariaDB database dropped. A node that logged an error fails the test, once everything else is
/// gone too; a node slow to stop does not hide the test's own result. A test class holds one and disposes it.
/// </summary>
public sealed class ClusterScope : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<TestServer> _nodes = [];

    /// <summary>The cluster whose database is dropped at the end: the last one a node was started on (or <see cref="Use"/>d).</summary>
    public ClusterConfig? Config { get; private set; }

    /// <summary>The in-process nodes started so far, in order.</summary>
    public IReadOnlyList<TestServer> Nodes => _nodes;

    /// <summary>The test runs on this cluster: its database is dropped at the end, even if no node ever starts on it.</summary>
    public ClusterConfig Use(ClusterConfig config)
    {
        Config = config;
        return config;
    }

    /// <summary>Stopped (disposed) when the test ends, after everything owned after it.</summary>
    public T Own<T>(T item) where T : IAsyncDisposable
    {
        _owned.Add(item);
        return item;
    }

    /// <summary>
    /// A node's usual options. An unhealthy /healthz is logged as an error by the health check service, so those
    /// are expected; the tests assert /healthz itself.
    /// </summary>
    public static ServerOptions Node(ClusterConfig config, string name, params string[] settings) =>
        new() { Name = name, Cluster = config, Settings = settings, IgnoreErrorsFrom = ["Microsoft.Extensions.Diagnostics.HealthChecks"] };

    /// <summary>A node in this process, owned; it fails the test when it logged an error (checked as it stops).</summary>
    public async Task<TestServer> StartNodeAsync(ServerOptions options)
    {
        if (options.Cluster is { } config)
        {
            Use(config);
        }

        var node = Own(await TestServer.StartAsync(options));
        _nodes.Add(node);
        return node;
    }

    /// <summary>Nodes node0, node1, ... with the usual options, started one at a time: the first creates the database and the schema.</summary>
    public async Task<TestServer[]> StartNodesAsync(ClusterConfig config, int count)
    {
        var nodes = new TestServer[count];
        for (var i = 0; i < count; i++)
        {
            nodes[i] = await StartNodeAsync(Node(config, $"node{i}"));
        }

        return nodes;
    }

    /// <summary>A node in a process of its own (one a test kills, or whose log it reads), owned.</summary>
    public async Task<ServerProcess> StartProcessAsync(ServerOptions options)
    {
        if (options.Cluster is { } config)
        {
            Use(config);
        }

        return Own(await ServerProcess.StartAsync(options));
    }

    /// <summary>The user's socket on the node, once welcomed; owned.</summary>
    public async Task<TestSocket> ConnectAsync(TestUser user, IServerUnderTest node) => Own(await user.At(node).ConnectWelcomedAsync());

    /// <summary>Fails when an in-process node has logged an error so far (before the test's end checks them anyway).</summary>
    public void AssertNoServerErrors()
    {
        var errors = _nodes.SelectMany(n => n.Errors.Lines).ToArray();
        Assert.True(errors.Length == 0, "server error log lines:\n" + string.Join("\n", errors));
    }

    public async ValueTask DisposeAsync()
    {
        Exception? failure = null;
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync();
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // A node slow to stop must not hide the test's own result.
            }
            catch (Exception e)
            {
                // A node that logged an error fails the test, once everything else is gone too.
                failure ??= e;
            }
        }

        if (Config is not null)
        {
            await Config.DropDatabaseAsync();
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }
}
