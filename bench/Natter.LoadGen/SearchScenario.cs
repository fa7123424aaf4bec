using System.Diagnostics;
using System.Globalization;
using System.Text;
using HdrHistogram;
using Microsoft.Data.Sqlite;
using Natter.Client;

namespace Natter.LoadGen;

/// <summary>
/// search: fills the server with --messages messages of Zipf-distributed words (--senders users over --rooms rooms,
/// --window sends outstanding each), then runs --queries two-word searches one after another as a member of every
/// room and reports their latency. With --db (the server's SQLite file) it also reports the search index's size.
/// </summary>
internal sealed class SearchScenario(Options o, HttpClient http, ServerProbe probe)
{
    private const int WarmupQueries = 20;
    private readonly LongConcurrentHistogram _queryLatency = new(1, 60_000_000, 3);
    private long _sent, _errors, _rateLimited;

    public async Task<Report> RunAsync(CancellationToken ct)
    {
        var report = new Report(o);
        var words = new ZipfWords(o.Vocabulary, o.Seed);
        Console.Error.WriteLine($"preparing {o.Senders} senders and {o.Rooms} rooms");
        var clients = await Users.PrepareAsync(o, http, "q", o.Senders, ct);
        try
        {
            var runId = DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture);
            var rooms = new string[o.Rooms];
            for (var r = 0; r < o.Rooms; r++)
            {
                rooms[r] = (await clients[r % o.Senders].CreateRoomAsync($"search {runId} {r}", ct)).Id;
            }

            await Parallel.ForEachAsync(Enumerable.Range(0, o.Senders * o.Rooms), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = ct },
                async (i, token) =>
                {
                    var (s, r) = (i / o.Rooms, i % o.Rooms);
                    if (r % o.Senders != s)
                    {
                        await clients[s].JoinRoomAsync(rooms[r], token);
                    }
                });
            await Users.ConnectAllAsync(clients, 64, ct);

            // Fill: every sender keeps --window sends outstanding, rooms taken in turn, until --messages are acked.
            Console.Error.WriteLine($"filling {o.Messages:N0} messages ({o.Senders} senders x {o.Window} outstanding, {o.Rooms} rooms, {o.Vocabulary:N0} words)");
            var cpu0 = probe.CpuSeconds();
            var started = Stopwatch.GetTimestamp();
            using (var progress = new Timer(_ => Progress(started), null, 1000, 1000))
            {
                var next = -1L;
                await Task.WhenAll(Enumerable.Range(0, o.Senders * o.Window).Select(loop => Task.Run(async () =>
                {
                    var client = clients[loop % o.Senders];
                    var rng = new Random(o.Seed + loop);
                    long n;
                    while ((n = Interlocked.Increment(ref next)) < o.Messages)
                    {
                        await SendAsync(client, rooms[n % o.Rooms], words.Message(rng), ct);
                    }
                }, ct)));
            }

            var fillSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var cpu1 = probe.CpuSeconds();
            Console.Error.WriteLine($"filled {Interlocked.Read(ref _sent):N0} messages in {fillSeconds:N1} s");
            report.Add("messages", "messages stored", Interlocked.Read(ref _sent));
            report.Add("rooms", "rooms", o.Rooms);
            report.Add("vocabulary", "distinct words (Zipf s=1.07)", o.Vocabulary);
            report.Add("fill_per_s", "fill rate (acked messages/s, index kept in the same commit)", Interlocked.Read(ref _sent) / fillSeconds);
            report.Add("fill_server_cpu_us_per_msg", "server CPU µs per stored message", cpu0 is { } c0 && cpu1 is { } c1 ? (c1 - c0) * 1e6 / Math.Max(1, Interlocked.Read(ref _sent)) : null, "N1");
            report.Add("send_errors", "sends refused", Interlocked.Read(ref _errors));

            if (o.Db is { } db)
            {
                Console.Error.WriteLine($"measuring the index in {db} (a compacted copy with and without it)");
                var (total, index) = await MeasureIndexAsync(db, ct);
                report.Add("db_bytes", "database size, compacted (bytes)", total);
                report.Add("index_bytes", "search index size (bytes)", index);
                report.Add("index_bytes_per_msg", "search index bytes per message", (double)index / Math.Max(1, Interlocked.Read(ref _sent)), "N1");
            }

            // Queries: two distinct words drawn from the same distribution, one query at a time, first page (limit 20).
            var searcher = clients[0];
            var qrng = new Random(o.Seed ^ 0x5EA4C4);
            long found = 0, empty = 0;
            Console.Error.WriteLine($"running {o.Queries:N0} two-word queries (after {WarmupQueries} unmeasured)");
            for (var i = 0; i < WarmupQueries + o.Queries; i++)
            {
                var (a, b) = words.Pair(qrng);
                var t0 = Stopwatch.GetTimestamp();
                var page = await searcher.SearchAsync($"{a} {b}", limit: 20, cancellationToken: ct);
                var us = Stopwatch.GetElapsedTime(t0).Ticks / 10;
                if (i < WarmupQueries)
                {
                    continue;
                }

                _queryLatency.RecordValue(Math.Max(1, us));
                found += page.Results.Count;
                empty += page.Results.Count == 0 ? 1 : 0;
                if ((i - WarmupQueries + 1) % 200 == 0)
                {
                    Console.Error.WriteLine($"  {i - WarmupQueries + 1} queries, p95 so far {_queryLatency.GetValueAtPercentile(95) / 1000.0:N1} ms");
                }
            }

            report.Add("queries", "two-word queries (first page, limit 20)", o.Queries);
            foreach (var (key, p) in new[] { ("p50", 50.0), ("p95", 95.0), ("p99", 99.0) })
            {
                report.Add($"query_{key}_ms", $"query {key} (ms)", _queryLatency.GetValueAtPercentile(p) / 1000.0, "N2");
            }

            report.Add("query_max_ms", "query max (ms)", _queryLatency.GetMaxValue() / 1000.0, "N2");
            report.Add("results_per_query", "results per query (mean)", (double)found / o.Queries, "N1");
            report.Add("queries_without_results", "queries without results", empty);
            if (Interlocked.Read(ref _rateLimited) > 0)
            {
                report.Warn("the server rate-limited sends: raise --Natter:Limits:SendsPerSecond / SendBurst for this benchmark");
            }

            return report;
        }
        finally
        {
            await Users.DisposeAllAsync(clients);
        }
    }

    private void Progress(long started)
    {
        var sent = Interlocked.Read(ref _sent);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.Error.WriteLine($"[{seconds,5:N0}s] {sent:N0}/{o.Messages:N0} stored ({sent / seconds:N0} msgs/s) errors {Interlocked.Read(ref _errors)}");
    }

    private async Task SendAsync(NatterClient client, string room, string text, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                await client.SendAsync(room, text, cancellationToken: ct);
                Interlocked.Increment(ref _sent);
                return;
            }
            catch (NatterException e) when (e.Code == "rate_limited")
            {
                Interlocked.Increment(ref _rateLimited);
                await Task.Delay(20, ct);
            }
            catch (NatterException)
            {
                Interlocked.Increment(ref _errors);
                return;
            }
        }
    }

    /// <summary>
    /// The index's size in bytes, without SQLite's dbstat (not compiled into the bundled library): the database is
    /// copied compacted (VACUUM INTO), then the copy loses the index and is compacted again; the difference is the index.
    /// </summary>
    private static async Task<(long Total, long Index)> MeasureIndexAsync(string db, CancellationToken ct)
    {
        var copy = Path.Combine(Path.GetTempPath(), $"natter-search-bench-{Guid.NewGuid():N}.db");
        try
        {
            await using (var conn = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False"))
            {
                await conn.OpenAsync(ct);
                await using var cmd = conn.CreateCommand();
                cmd.CommandText = "VACUUM INTO @p";
                cmd.Parameters.AddWithValue("@p", copy);
                await cmd.ExecuteNonQueryAsync(ct);
            }

            var total = new FileInfo(copy).Length;
            await using (var conn = new SqliteConnection($"Data Source={copy};Pooling=False"))
            {
                await conn.OpenAsync(ct);
                await using var cmd = conn.CreateCommand();
                cmd.CommandText = """
                    DROP TRIGGER IF EXISTS search_message_stored; DROP TRIGGER IF EXISTS search_message_changed;
                    DROP TRIGGER IF EXISTS search_message_removed; DROP TABLE IF EXISTS search_index; DROP TABLE IF EXISTS search_docs;
                    VACUUM;
                    """;
                await cmd.ExecuteNonQueryAsync(ct);
            }

            return (total, total - new FileInfo(copy).Length);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(copy);
        }
    }
}

/// <summary>
/// A made-up language with a Zipf word distribution (s = 1.07, like English text): pronounceable words of 2–10
/// letters, about a tenth with a diacritic, messages of 3–20 words.
/// </summary>
internal sealed class ZipfWords
{
    private const double Exponent = 1.07;
    private readonly string[] _words;
    private readonly double[] _cdf;

    public ZipfWords(int vocabulary, int seed)
    {
        var rng = new Random(seed);
        const string consonants = "bcdfghjklmnprstvwz";
        const string vowels = "aeiouy";
        const string accented = "áéíóúü";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        _words = new string[vocabulary];
        for (var i = 0; i < vocabulary;)
        {
            var sb = new StringBuilder();
            var syllables = rng.Next(1, 5);
            for (var s = 0; s < syllables; s++)
            {
                sb.Append(consonants[rng.Next(consonants.Length)]);
                sb.Append(rng.Next(10) == 0 ? accented[rng.Next(accented.Length)] : vowels[rng.Next(vowels.Length)]);
                if (rng.Next(4) == 0)
                {
                    sb.Append(consonants[rng.Next(consonants.Length)]);
                }
            }

            var w = sb.ToString();
            if (seen.Add(w))
            {
                _words[i++] = w;
            }
        }

        _cdf = new double[vocabulary];
        var sum = 0.0;
        for (var r = 0; r < vocabulary; r++)
        {
            sum += 1 / Math.Pow(r + 1, Exponent);
            _cdf[r] = sum;
        }

        for (var r = 0; r < vocabulary; r++)
        {
            _cdf[r] /= sum;
        }
    }

    public string Word(Random rng)
    {
        var i = Array.BinarySearch(_cdf, rng.NextDouble());
        return _words[Math.Min(i < 0 ? ~i : i, _words.Length - 1)];
    }

    public string Message(Random rng)
    {
        var n = rng.Next(3, 21);
        var sb = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            sb.Append(i == 0 ? "" : " ").Append(Word(rng));
        }

        return sb.Append(rng.Next(3) == 0 ? "?" : ".").ToString();
    }

    public (string, string) Pair(Random rng)
    {
        var a = Word(rng);
        string b;
        do
        {
            b = Word(rng);
        }
        while (b == a);
        return (a, b);
    }
}
