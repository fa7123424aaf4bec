using Natter.Client;

namespace Natter.LoadGen;

/// <summary>Registers (409 = reuse) and logs in the load generator's users, a bounded number of calls at a time.</summary>
internal static class Users
{
    public static async Task<NatterClient[]> PrepareAsync(Options o, HttpClient http, string kind, int count, CancellationToken ct)
    {
        var clients = new NatterClient[count];
        var done = 0;
        var started = DateTime.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = ct },
            async (i, token) =>
            {
                var client = new NatterClient(o.Url, new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(200) }, http);
                await client.RegisterOrLoginAsync(Name(o, kind, i), o.Password, token);
                clients[i] = client;
                var n = Interlocked.Increment(ref done);
                if (n % 500 == 0)
                {
                    Console.Error.WriteLine($"  prepared {n}/{count} users ({(DateTime.UtcNow - started).TotalSeconds:N0} s)");
                }
            });
        return clients;
    }

    public static string Name(Options o, string kind, int i) => $"{o.UserPrefix}.{kind}.{i}";

    public static async Task ConnectAllAsync(IEnumerable<NatterClient> clients, int concurrency, CancellationToken ct)
    {
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (c, token) => await c.ConnectAsync(token));
    }

    public static async Task DisposeAllAsync(IEnumerable<NatterClient?> clients)
    {
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) =>
        {
            if (c is not null)
            {
                await c.DisposeAsync();
            }
        });
    }
}
