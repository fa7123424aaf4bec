using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Natter.TestSupport;

/// <summary>
/// How a test wants its server: by default a fresh SQLite file in a temporary folder; with <see cref="Cluster"/>, the
/// MariaDB database and Redis a cluster's nodes share. <see cref="Settings"/> override anything ("Section:Key=value").
/// </summary>
public sealed record ServerOptions
{
    /// <summary>Names the server in error lines and, in a cluster, as its node name.</summary>
    public string Name { get; init; } = "server";

    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>Where the SQLite file lives; null for a new temporary folder, deleted with the server.</summary>
    public string? Folder { get; init; }

    public ClusterConfig? Cluster { get; init; }

    /// <summary>Serves the browser client from this folder instead of the copy beside the binary.</summary>
    public string? WebRoot { get; init; }

    /// <summary>The client's source folder (stamped in at build time), so a test run always sees the current files.</summary>
    public static string SourceWebRoot =>
        typeof(ServerOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "NatterWebRoot").Value!;

    /// <summary>
    /// Changes to the in-process server's services, after Natter's own (a later registration wins): only for a fault
    /// a test cannot cause with real parts, such as a race inside one request.
    /// </summary>
    public Action<IServiceCollection>? Services { get; init; }

    /// <summary>How long a stop may take before the host gives up on open connections.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Log categories whose errors are expected (each a prefix).</summary>
    public IReadOnlyList<string> IgnoreErrorsFrom { get; init; } = [];

    public const string DatabaseFile = "natter.db";

    /// <summary>The command line both the in-process host and the separate process start from.</summary>
    /// <param name="inProcess">The in-process host trades durability and patience for speed; the separate process keeps the binary's defaults.</param>
    internal List<string> Arguments(string folder, int port, bool inProcess)
    {
        var args = new List<string>
        {
            "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            // A cheap Argon2id: password hashing cost is not what these tests measure.
            "--Natter:Auth:Argon2Iterations=1",
            "--Natter:Auth:Argon2MemoryKiB=8192",
            "--Logging:LogLevel:Default=Warning",
        };
        if (inProcess)
        {
            args.Add("--Natter:WebSocket:CloseTimeout=00:00:02");
        }

        if (Cluster is { } cluster)
        {
            args.AddRange(cluster.Settings(Name).Select(s => "--" + s));
        }
        else
        {
            args.Add($"--Natter:Storage:SqlitePath={Path.Combine(folder, DatabaseFile)}");
            if (inProcess)
            {
                // NORMAL keeps the suite fast; the durability tests run the real default (FULL) in a separate process.
                args.Add("--Natter:Storage:SqliteSynchronous=NORMAL");
            }
        }

        if (WebRoot is not null)
        {
            args.Add($"--webroot={WebRoot}");
        }

        args.AddRange(Settings.Select(s => "--" + s));
        return args;
    }
}

/// <summary>Where a cluster's nodes meet: one MariaDB database and one Redis key prefix, both unique to the test.</summary>
public sealed class ClusterConfig
{
    public required string MySql { get; init; }
    public required string Database { get; init; }
    public required string Redis { get; init; }
    public string Prefix { get; } = "natter-t-" + Guid.NewGuid().ToString("N")[..8];
    public TimeSpan PresenceTtl { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>A new database on NATTER_TEST_MYSQL and the Redis at NATTER_TEST_REDIS (or the one given).</summary>
    public static ClusterConfig Create(string? redis = null)
    {
        var mysql = TestServices.NewDatabase(out var database);
        return new ClusterConfig { MySql = mysql, Database = database, Redis = redis ?? TestServices.Redis };
    }

    public string[] Settings(string node) =>
    [
        "Natter:NodeName=" + node,
        "Natter:Storage:Provider=mysql",
        "Natter:Storage:MySqlConnectionString=" + MySql,
        "Natter:Bus:Provider=redis",
        "Natter:Bus:RedisConnectionString=" + Redis,
        "Natter:Bus:RedisPrefix=" + Prefix,
        "Natter:Bus:PresenceTtl=" + PresenceTtl.ToString("c", CultureInfo.InvariantCulture),
        "Natter:Limits:SendsPerSecond=100000",
        "Natter:Limits:SendBurst=100000",
        "Natter:Metrics:Token=" + MetricsToken,
    ];

    /// <summary>The bearer token every cluster node's /metrics wants.</summary>
    public const string MetricsToken = "cluster-test-metrics-token";

    public Task DropDatabaseAsync() => TestServices.DropDatabaseAsync(Database);
}
