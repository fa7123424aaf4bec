using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace Natter.TestSupport;

/// <summary>
/// The real services the tests run against, from environment variables that scripts/test.sh (or
/// /work/devsvc/env.sh) sets. A missing one skips the test with the reason, except under CI=true, where it fails:
/// CI must never pass by skipping.
/// </summary>
public static class TestServices
{
    public static string MySql => Require("NATTER_TEST_MYSQL", "a MariaDB/MySQL connection string without a database");

    public static string Redis => Require("NATTER_TEST_REDIS", "host:port of a Redis server");

    public static string RedisServerPath => Require("NATTER_TEST_REDIS_SERVER", "the path of redis-server, for tests that restart their own Redis");

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Ends the test: skipped with the reason, or failed under CI=true.</summary>
    public static void Unavailable(string reason)
    {
        if (IsCi)
        {
            Assert.Fail("CI=true and " + reason);
        }

        Assert.Skip(reason);
    }

    private static string Require(string name, string what)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            Unavailable($"{name} is not set ({what}); scripts/test.sh installs and starts the services and sets it.");
        }

        return value!;
    }

    /// <summary>A connection string for a new, unique database (the store creates it); drop it with <see cref="DropDatabaseAsync"/>.</summary>
    public static string NewDatabase(out string database)
    {
        database = "natter_t_" + Guid.NewGuid().ToString("N")[..10];
        return new MySqlConnectionStringBuilder(MySql) { Database = database }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string database)
    {
        try
        {
            await using var conn = new MySqlConnection(new MySqlConnectionStringBuilder(MySql) { Database = "" }.ConnectionString);
            await conn.OpenAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await using var cmd = new MySqlCommand($"DROP DATABASE IF EXISTS `{database}`", conn);
            await cmd.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (Exception e) when (e is MySqlException or TimeoutException)
        {
            // A leftover test database is harmless; the test services are thrown away after the run.
        }
    }

    /// <summary>A loopback port nothing listens on right now (for a service the test starts itself, or one that must be closed).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
