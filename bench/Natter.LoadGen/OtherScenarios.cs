using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Natter.Client;

namespace Natter.LoadGen;

/// <summary>idle: N authenticated sockets in rooms of --members; server RSS per connection and idle CPU.</summary>
internal sealed class IdleScenario(Options o, HttpClient http, ServerProbe probe)
{
    public async Task<Report> RunAsync(CancellationToken ct)
    {
        var report = new Report(o);
        Console.Error.WriteLine($"preparing {o.Connections} users (rooms of {o.Members})");
        var clients = await Users.PrepareAsync(o, http, "i", o.Connections, ct);
        try
        {
            var runId = DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture);
            await Parallel.ForEachAsync(Enumerable.Range(0, (o.Connections + o.Members - 1) / o.Members),
                new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = ct }, async (r, token) =>
                {
                    var room = await clients[r * o.Members].CreateRoomAsync($"idle {runId} {r}", token);
                    for (var m = (r * o.Members) + 1; m < Math.Min(o.Connections, (r + 1) * o.Members); m++)
                    {
                        await clients[m].JoinRoomAsync(room.Id, token);
                    }
                });
            await Task.Delay(1000, ct);
            var rss0 = probe.RssKiB();
            var started = Stopwatch.GetTimestamp();
            Console.Error.WriteLine($"connecting {o.Connections} sockets (server RSS {rss0 / 1024.0:N1} MiB)");
            var connected = 0;
            await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (c, token) =>
            {
                await c.ConnectAsync(token);
                if (Interlocked.Increment(ref connected) % 1000 == 0)
                {
                    Console.Error.WriteLine($"  {connected} connected");
                }
            });
            var connectSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, o.Warmup)), ct);
            var rss1 = probe.RssKiB();
            var cpu0 = probe.CpuSeconds();
            for (var t = 1; t <= (int)o.Duration; t++)
            {
                await Task.Delay(1000, ct);
                Console.Error.WriteLine($"[{t,3}s] {clients.Count(c => c.IsConnected)} open, server RSS {probe.RssKiB() / 1024.0:N1} MiB");
            }
            var cpu1 = probe.CpuSeconds();
            var rss2 = probe.RssKiB();
            var open = clients.Count(c => c.IsConnected);
            report.Add("connections", "connections open at end", open);
            report.Add("connect_per_s", "connects/s (upgrade + welcome + sync)", o.Connections / connectSeconds);
            report.Add("server_rss_before_mib", "server RSS before connecting (MiB)", rss0 / 1024.0, "N1");
            report.Add("server_rss_after_mib", "server RSS with all connected (MiB)", rss2 / 1024.0, "N1");
            report.Add("rss_per_connection_kib", "server RSS per connection (KiB)", rss0 is { } a && rss1 is { } b ? (double)(b - a) / o.Connections : null, "N1");
            report.Add("idle_cpu_pct", "server CPU % while idle", cpu0 is { } c0 && cpu1 is { } c1 ? (c1 - c0) * 100 / o.Duration : null, "N1");
            if (open < o.Connections)
            {
                report.Warn($"{o.Connections - open} sockets closed during the idle period");
            }
            return report;
        }
        finally
        {
            await Users.DisposeAllAsync(clients);
        }
    }
}

/// <summary>
/// ingest: N senders, each in its own room, each keeping --window sends outstanding; acks per second. With several
/// URLs, sender i sends through node i mod N (so every node commits to the shared store), and the acks are also
/// counted per node. Every ack must carry the next seq of its room (gapless, once each): a sender's sends are
/// acked in any order, but the set of seqs acked in a room must be 1..n without holes or repeats.
/// </summary>
internal sealed class IngestScenario(Options o, HttpClient http, ServerProbe probe)
{
    private readonly LongConcurrentHistogram _ackLatency = new(1, 60_000_000, 3);
    private readonly ServerProbe _store = new(o.StorePid);
    private long[] _ackedByNode = [];
    private long _acked, _errors, _rateLimited;

    public async Task<Report> RunAsync(CancellationToken ct)
    {
        var report = new Report(o);
        Console.Error.WriteLine($"preparing {o.Senders} senders");
        var clients = await Users.PrepareAsync(o, http, "g", o.Senders, ct);
        try
        {
            var runId = DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture);
            var rooms = new string[o.Senders];
            await Parallel.ForEachAsync(Enumerable.Range(0, o.Senders), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = ct },
                async (i, token) => rooms[i] = (await clients[i].CreateRoomAsync($"ingest {runId} {i}", token)).Id);
            await Users.ConnectAllAsync(clients, 64, ct);
            _ackedByNode = new long[o.Urls.Count];
            var seqs = Enumerable.Range(0, o.Senders).Select(_ => new List<long>()).ToArray();
            // stop: no new sends; abandon: sends still unanswered this long after the stop are given up (and reported).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var abandon = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var measuring = 0;
            var loops = Enumerable.Range(0, o.Senders).SelectMany(i => Enumerable.Range(0, o.Window)
                .Select(_ => SendLoopAsync(clients[i], rooms[i], i % o.Urls.Count, seqs[i], () => Volatile.Read(ref measuring) == 1, stop.Token, abandon.Token))).ToArray();
            Console.Error.WriteLine($"{o.Senders} senders x {o.Window} outstanding over {o.Urls.Count} node(s): {o.Warmup} s warmup + {o.Duration} s");
            await Task.Delay(TimeSpan.FromSeconds(o.Warmup), ct);
            var cpu0 = probe.CpuSeconds();
            var store0 = _store.CpuSeconds();
            var own0 = ServerProbe.OwnCpuSeconds();
            var acked0 = Interlocked.Read(ref _acked);
            var byNode0 = _ackedByNode.Select(n => Interlocked.Read(ref n)).ToArray();
            Volatile.Write(ref measuring, 1);
            var last = acked0;
            for (var t = 1; t <= (int)Math.Ceiling(o.Duration); t++)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(1, o.Duration - t + 1)), ct);
                var a = Interlocked.Read(ref _acked);
                Console.Error.WriteLine($"[{t,3}s] acked {a - last}/s errors {Interlocked.Read(ref _errors)} rate_limited {Interlocked.Read(ref _rateLimited)}");
                last = a;
            }
            Volatile.Write(ref measuring, 0);
            var acked = Interlocked.Read(ref _acked) - acked0;
            var byNode = _ackedByNode.Select((_, i) => Interlocked.Read(ref _ackedByNode[i]) - byNode0[i]).ToArray();
            var cpu1 = probe.CpuSeconds();
            var store1 = _store.CpuSeconds();
            var own1 = ServerProbe.OwnCpuSeconds();
            await stop.CancelAsync();
            abandon.CancelAfter(TimeSpan.FromSeconds(o.Drain));
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(o.Drain + 10), CancellationToken.None);

            // Correctness: in each room the acked seqs are distinct and without holes (every send was answered).
            long repeats = 0, holes = 0;
            foreach (var list in seqs)
            {
                if (list.Count == 0)
                {
                    continue;
                }
                var distinct = list.Distinct().Count();
                repeats += list.Count - distinct;
                holes += list.Max() - list.Min() + 1 - distinct;
            }

            report.Add("senders", "senders (= rooms)", o.Senders);
            report.Add("window", "outstanding sends per sender", o.Window);
            report.Add("nodes", "nodes (URLs)", o.Urls.Count);
            report.Add("acked_per_s", "acked messages/s", acked / o.Duration);
            if (o.Urls.Count > 1)
            {
                for (var i = 0; i < byNode.Length; i++)
                {
                    report.Add($"acked_per_s_node{i + 1}", $"acked messages/s through {o.Urls[i].Authority}", byNode[i] / o.Duration);
                }
            }
            report.AddLatency("ack", "ack latency", _ackLatency);
            report.Add("errors", "sends refused (error frame)", Interlocked.Read(ref _errors));
            report.Add("rate_limited", "of which rate_limited", Interlocked.Read(ref _rateLimited));
            report.Add("unanswered", "sends unanswered after the drain", Interlocked.Read(ref _abandoned));
            report.Add("seq_repeats", "acked seqs repeated in a room", repeats);
            report.Add("seq_holes", "holes between acked seqs in a room", holes);
            report.Add("server_cpu_us_per_ack", "server CPU µs per acked message (all nodes)", cpu0 is { } c0 && cpu1 is { } c1 && acked > 0 ? (c1 - c0) * 1e6 / acked : null, "N2");
            report.Add("server_cpu_pct", "server CPU % of one core (all nodes)", cpu0 is { } x && cpu1 is { } y ? (y - x) * 100 / o.Duration : null, "N0");
            report.Add("store_cpu_us_per_ack", "database CPU µs per acked message (--store-pid)", store0 is { } d0 && store1 is { } d1 && acked > 0 ? (d1 - d0) * 1e6 / acked : null, "N2");
            report.Add("store_cpu_pct", "database CPU % of one core", store0 is { } e0 && store1 is { } e1 ? (e1 - e0) * 100 / o.Duration : null, "N0");
            report.Add("loadgen_cpu_pct", "loadgen CPU % of one core", (own1 - own0) * 100 / o.Duration, "N0");
            if (Interlocked.Read(ref _rateLimited) > 0)
            {
                report.Warn("the server rate-limited sends: raise --Natter:Limits:SendsPerSecond / SendBurst for this benchmark");
            }
            if (repeats > 0 || holes > 0)
            {
                report.Warn($"acked seqs are not gapless and unique per room: {repeats} repeated, {holes} holes");
            }
            if (Interlocked.Read(ref _abandoned) > 0)
            {
                report.Warn($"{Interlocked.Read(ref _abandoned)} sends were still unanswered {o.Drain} s after the last send");
            }
            return report;
        }
        finally
        {
            await Users.DisposeAllAsync(clients);
        }
    }

    private long _abandoned;

    /// <summary>One outstanding send at a time until stop; a send already on its way is waited for (up to abandon), so every send is answered.</summary>
    private async Task SendLoopAsync(NatterClient client, string room, int node, List<long> seqs, Func<bool> measuring, CancellationToken stop, CancellationToken abandon)
    {
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                var ack = await client.SendAsync(room, "i" + (n++).ToString(CultureInfo.InvariantCulture), cancellationToken: abandon);
                Interlocked.Increment(ref _acked);
                Interlocked.Increment(ref _ackedByNode[node]);
                lock (seqs)
                {
                    seqs.Add(ack.Seq);
                }
                if (measuring())
                {
                    _ackLatency.RecordValue(Math.Max(1, Stopwatch.GetElapsedTime(t0).Ticks / 10));
                }
            }
            catch (NatterException e)
            {
                Interlocked.Increment(ref _errors);
                if (e.Code == "rate_limited")
                {
                    Interlocked.Increment(ref _rateLimited);
                    await Task.Delay(20, CancellationToken.None);
                }
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _abandoned);
                return;
            }
        }
    }
}

/// <summary>sync: a reader leaves, a writer stores N messages, the reader comes back and syncs; time to receive all.</summary>
internal sealed class SyncScenario(Options o, HttpClient http, ServerProbe probe)
{
    public async Task<Report> RunAsync(CancellationToken ct)
    {
        var report = new Report(o);
        var users = await Users.PrepareAsync(o, http, "s", 2, ct);
        var (reader, writer) = (users[0], users[1]);
        NatterClient? back = null;
        try
        {
            var room = await writer.CreateRoomAsync("sync " + DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture), ct);
            await reader.JoinRoomAsync(room.Id, ct);
            await reader.ConnectAsync(ct);
            var lastSeen = reader.LastSeqs[room.Id];
            var token = reader.Token!;
            await reader.DisposeAsync();

            Console.Error.WriteLine($"writing {o.Messages} messages while the reader is away");
            await writer.ConnectAsync(ct);
            var written = 0;
            var rateLimited = 0;
            var started = Stopwatch.GetTimestamp();
            await Parallel.ForEachAsync(Enumerable.Range(0, o.Messages), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (i, token) =>
            {
                var clientId = "sync-" + i.ToString(CultureInfo.InvariantCulture) + "-" + started.ToString(CultureInfo.InvariantCulture);
                while (true)
                {
                    try
                    {
                        await writer.SendAsync(room.Id, $"missed message {i} of a sync benchmark, long enough to look like chat", clientId, token);
                        break;
                    }
                    catch (NatterException e) when (e.Code == "rate_limited")
                    {
                        Interlocked.Increment(ref rateLimited);
                        await Task.Delay(100, token);
                    }
                }
                if (Interlocked.Increment(ref written) % 2000 == 0)
                {
                    Console.Error.WriteLine($"  {written} written");
                }
            });
            var writeSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

            back = new NatterClient(o.Url, null, http);
            back.UseToken(token);
            back.SetLastSeq(room.Id, lastSeen);
            var received = 0L;
            var inOrder = true;
            var expect = lastSeen + 1;
            back.MessageReceived += m =>
            {
                if (m.Room != room.Id)
                {
                    return;
                }
                inOrder &= m.Seq == expect;
                expect = m.Seq + 1;
                received++;
            };
            var cpu0 = probe.CpuSeconds();
            var t0 = Stopwatch.GetTimestamp();
            await back.ConnectAsync(ct); // Returns on "synced": upgrade, welcome, sync, every missed message.
            var syncMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            var cpu1 = probe.CpuSeconds();
            report.Add("messages", "missed messages", o.Messages);
            report.Add("received", "received by sync", received);
            report.Add("sync_ms", "reconnect + sync until synced (ms)", syncMs, "N1");
            report.Add("sync_msgs_per_s", "messages/s during sync", received / (syncMs / 1000));
            report.Add("server_cpu_ms", "server CPU during sync (ms)", cpu0 is { } a && cpu1 is { } b ? (b - a) * 1000 : null, "N0");
            report.Add("write_per_s", "acked writes/s while preparing (64 outstanding)", o.Messages / writeSeconds);
            report.Add("rate_limited", "writes rate-limited (retried)", rateLimited);
            if (received != o.Messages || !inOrder || back.DuplicatesDropped > 0)
            {
                report.Warn($"sync delivered {received} of {o.Messages} (in order: {inOrder}, duplicates: {back.DuplicatesDropped})");
            }
            return report;
        }
        finally
        {
            await writer.DisposeAsync();
            await reader.DisposeAsync();
            if (back is not null)
            {
                await back.DisposeAsync();
            }
        }
    }
}
