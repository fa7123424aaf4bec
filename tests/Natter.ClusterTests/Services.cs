using MySqlConnector;

namespace Natter.ClusterTests;

/// <summary>
/// The real services the tests run against, from environment variables that scripts/test.sh sets. A missing one
/// skips the test with the reason, except under CI=true, where it fails: CI must never pass by skipping.
/// </summary>
internal static class Services
{
    public static string MySql => Require("NATTER_TEST_MYSQL", "a MariaDB/MySQL connection string without a database");

    public static string Redis => Require("NATTER_TEST_REDIS", "host:port of a Redis server");

    public static string RedisServerPath => Require("NATTER_TEST_REDIS_SERVER", "the path of redis-server, for tests that restart their own Redis");

    private static string Require(string name, string what)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        var reason = $"{name} is not set ({what}); scripts/test.sh installs and starts the services and sets it.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("CI=true and " + reason);
        }

        Assert.Skip(reason);
        return null!;
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

    public static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
