using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Natter.Client;

namespace Natter.LoadGen;

/// <summary>
/// Registers (409 = reuse) and logs in the load generator's users, a bounded number of calls at a time.
/// User i talks to o.UrlOf(i) (round-robin over the nodes of a cluster; a token works on every node).
/// Tokens are kept in a cache file per (first) server URL, so a repeated run checks them with GET /api/me (no password
/// hash on the server) instead of logging every user in again.
/// </summary>
internal static class Users
{
    public static async Task<NatterClient[]> PrepareAsync(Options o, HttpClient http, string kind, int count, CancellationToken ct)
    {
        var cache = await LoadCacheAsync(o, ct);
        var clients = new NatterClient[count];
        var done = 0;
        var logins = 0;
        var started = DateTime.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = ct },
            async (i, token) =>
            {
                var name = Name(o, kind, i);
                var client = new NatterClient(o.UrlOf(i), new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(200) }, http);
                if (!cache.TryGetValue(name, out var saved) || !await IsValidAsync(client, saved, token))
                {
                    cache[name] = await client.RegisterOrLoginAsync(name, o.Password, token);
                    Interlocked.Increment(ref logins);
                }
                clients[i] = client;
                var n = Interlocked.Increment(ref done);
                if (n % 500 == 0)
                {
                    Console.Error.WriteLine($"  prepared {n}/{count} users ({(DateTime.UtcNow - started).TotalSeconds:N0} s)");
                }
            });
        if (logins > 0)
        {
            await SaveCacheAsync(o, cache, ct);
        }
        Console.Error.WriteLine($"  {count} users ready in {(DateTime.UtcNow - started).TotalSeconds:N1} s ({logins} logins, {count - logins} saved tokens)");
        return clients;
    }

    private static async Task<bool> IsValidAsync(NatterClient client, string token, CancellationToken ct)
    {
        client.UseToken(token);
        try
        {
            await client.GetMeAsync(ct);
            return true;
        }
        catch (NatterHttpException e) when (e.StatusCode == HttpStatusCode.Unauthorized)
        {
            return false;
        }
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

    private static string CachePath(Options o) => o.TokenCache ?? Path.Combine(Path.GetTempPath(),
        $"natter-loadgen-tokens-{o.Url.Host}-{o.Url.Port}-{o.UserPrefix}.json");

    private static async Task<ConcurrentDictionary<string, string>> LoadCacheAsync(Options o, CancellationToken ct)
    {
        var path = CachePath(o);
        if (o.TokenCache == "none" || !File.Exists(path))
        {
            return new(StringComparer.Ordinal);
        }
        try
        {
            await using var file = File.OpenRead(path);
            var saved = await JsonSerializer.DeserializeAsync(file, LoadGenJsonContext.Default.DictionaryStringString, ct);
            return new(saved ?? [], StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return new(StringComparer.Ordinal);
        }
    }

    private static async Task SaveCacheAsync(Options o, ConcurrentDictionary<string, string> cache, CancellationToken ct)
    {
        if (o.TokenCache == "none")
        {
            return;
        }
        var path = CachePath(o);
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, new Dictionary<string, string>(cache, StringComparer.Ordinal), LoadGenJsonContext.Default.DictionaryStringString, ct);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class LoadGenJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
