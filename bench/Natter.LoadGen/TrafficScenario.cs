using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Natter.Client;

namespace Natter.LoadGen;

/// <summary>
/// fanout (rooms x members, every member sends) and direct (pairs of users in their direct room, sending with "to").
/// Sends are paced from one loop at the target total rate, round-robin over the members so consecutive sends hit
/// different rooms. Each message text carries its send timestamp; every delivery is checked against the member's
/// last seq in that room (gap = loss, repeat = duplicate), and after the drain every member must have reached the
/// room's highest acked seq.
/// </summary>
internal sealed class TrafficScenario(Options o, HttpClient http, ServerProbe probe)
{
    private readonly LongConcurrentHistogram _latency = new(1, 60_000_000, 3);
    private readonly LongConcurrentHistogram _ackLatency = new(1, 60_000_000, 3);
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _closes = new(StringComparer.Ordinal);
    private long _issued, _acked, _failed, _delivered, _windowDelivered, _windowAcked, _gaps, _duplicates;
    private long _measureFrom = long.MaxValue, _measureTo = long.MaxValue;

    private sealed class Room(string id)
    {
        public string Id { get; } = id;
        public long MaxAcked;
        public List<Member> Members { get; } = [];
    }

    private sealed class Member(NatterClient client, string name, Room room)
    {
        public NatterClient Client { get; } = client;
        public string Name { get; } = name;
        public Room Room { get; } = room;
        public string? Peer { get; set; }
        public long LastSeq;
    }

    public async Task<Report> RunAsync(CancellationToken ct)
    {
        var direct = o.Scenario == "direct";
        var roomCount = direct ? o.Pairs : o.Rooms;
        var perRoom = direct ? 2 : o.Members;
        var runId = DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture);
        Console.Error.WriteLine($"preparing {roomCount * perRoom} users in {roomCount} {(direct ? "direct" : "group")} rooms of {perRoom}");
        var clients = await Users.PrepareAsync(o, http, direct ? "d" : "f", roomCount * perRoom, ct);
        var rooms = new Room[roomCount];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, roomCount), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = ct },
                async (r, token) =>
                {
                    var first = clients[r * perRoom];
                    var info = direct
                        ? await first.OpenDirectAsync(Users.Name(o, "d", (r * perRoom) + 1), token)
                        : await first.CreateRoomAsync($"lg {runId} {r}", token);
                    var room = new Room(info.Id);
                    for (var m = 0; m < perRoom; m++)
                    {
                        var client = clients[(r * perRoom) + m];
                        if (!direct && m > 0)
                        {
                            await client.JoinRoomAsync(info.Id, token);
                        }
                        room.Members.Add(new Member(client, Users.Name(o, direct ? "d" : "f", (r * perRoom) + m), room));
                    }
                    if (direct)
                    {
                        room.Members[0].Peer = room.Members[1].Name;
                        room.Members[1].Peer = room.Members[0].Name;
                    }
                    rooms[r] = room;
                });
            foreach (var member in rooms.SelectMany(r => r.Members))
            {
                member.Client.MessageReceived += m => OnMessage(member, m);
                member.Client.Error += e => _errors.AddOrUpdate(e.Code, 1, (_, n) => n + 1);
                member.Client.Disconnected += d => _closes.AddOrUpdate(d.CloseStatus?.ToString(CultureInfo.InvariantCulture) ?? "no close frame", 1, (_, n) => n + 1);
            }
            Console.Error.WriteLine($"connecting {clients.Length} sockets");
            await Users.ConnectAllAsync(clients, 64, ct);
            foreach (var room in rooms)
            {
                foreach (var member in room.Members)
                {
                    member.LastSeq = member.Client.LastSeqs.GetValueOrDefault(room.Id);
                }
                room.MaxAcked = room.Members.Max(m => m.LastSeq);
            }
            return await DriveAsync(rooms, clients.Length, ct);
        }
        finally
        {
            await Users.DisposeAllAsync(clients);
        }
    }

    private async Task<Report> DriveAsync(Room[] rooms, int connections, CancellationToken ct)
    {
        // Round-robin order: member m of every room, then member m+1, so neighbours in time are in different rooms.
        var order = Enumerable.Range(0, rooms.Max(r => r.Members.Count))
            .SelectMany(m => rooms.Where(r => m < r.Members.Count).Select(r => r.Members[m])).ToArray();
        var report = new Report(o);
        var start = Stopwatch.GetTimestamp();
        var warmupEnd = start + (long)(o.Warmup * Stopwatch.Frequency);
        var end = warmupEnd + (long)(o.Duration * Stopwatch.Frequency);
        double? cpu0 = null, cpu1 = null;
        double own0 = 0, own1 = 0;
        long? rss0 = probe.RssKiB(), rss1 = null;
        var maxLagMs = 0.0;
        var sent = 0L;
        using var progress = new Progress(this, probe);
        Console.Error.WriteLine($"sending {o.Rate}/s for {o.Warmup} s warmup + {o.Duration} s");
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (_measureFrom == long.MaxValue && now >= warmupEnd)
            {
                cpu0 = probe.CpuSeconds();
                own0 = ServerProbe.OwnCpuSeconds();
                Volatile.Write(ref _measureFrom, now);
                _measureTo = end;
            }
            if (now >= end)
            {
                break;
            }
            var due = (long)((now - start) * (double)o.Rate / Stopwatch.Frequency);
            if (now >= warmupEnd)
            {
                maxLagMs = Math.Max(maxLagMs, (due - sent) * 1000.0 / o.Rate);
            }
            while (sent < due)
            {
                Fire(order[sent % order.Length]);
                sent++;
            }
            await Task.Delay(1, ct);
        }
        cpu1 = probe.CpuSeconds();
        own1 = ServerProbe.OwnCpuSeconds();
        var windowDelivered = Interlocked.Read(ref _windowDelivered);
        var windowAcked = Interlocked.Read(ref _windowAcked);
        var deliveredAtEnd = Interlocked.Read(ref _delivered);
        rss1 = probe.RssKiB();
        progress.Stop();

        // Drain: every send answered and every member at its room's highest acked seq.
        var drainDeadline = Stopwatch.GetTimestamp() + (long)(o.Drain * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < drainDeadline &&
               (Interlocked.Read(ref _acked) + Interlocked.Read(ref _failed) < Interlocked.Read(ref _issued) ||
                rooms.Any(r => r.Members.Any(m => Volatile.Read(ref m.LastSeq) < Volatile.Read(ref r.MaxAcked)))))
        {
            await Task.Delay(50, ct);
        }
        var missing = rooms.Sum(r => r.Members.Sum(m => Math.Max(0, Volatile.Read(ref r.MaxAcked) - Volatile.Read(ref m.LastSeq))));
        var unanswered = Interlocked.Read(ref _issued) - Interlocked.Read(ref _acked) - Interlocked.Read(ref _failed);

        var seconds = o.Duration;
        report.Add("connections", "connections", connections);
        report.Add("target_sends_per_s", "target sends/s", o.Rate);
        report.Add("acked_per_s", "acked sends/s (measured window)", windowAcked / seconds);
        report.Add("delivered_per_s", "deliveries/s (measured window)", windowDelivered / seconds);
        report.AddLatency("latency", "delivery latency", _latency);
        report.AddLatency("ack", "ack latency", _ackLatency);
        report.Add("sends_issued", "sends issued (incl. warmup)", Interlocked.Read(ref _issued));
        report.Add("send_errors", "sends refused (error frame)", Interlocked.Read(ref _failed));
        report.Add("unanswered", "sends unanswered after drain", unanswered);
        report.Add("deliveries", "deliveries (incl. warmup, drain)", Interlocked.Read(ref _delivered));
        report.Add("missing", "missing deliveries (loss)", missing + Interlocked.Read(ref _gaps));
        report.Add("duplicates", "duplicate or out-of-order deliveries", Interlocked.Read(ref _duplicates) + rooms.Sum(r => r.Members.Sum(m => m.Client.DuplicatesDropped)));
        report.Add("server_closes", "sockets closed by the server", _closes.Values.Sum());
        report.Add("max_send_lag_ms", "max send lag behind schedule (ms)", maxLagMs, "N1");
        report.Add("server_cpu_us_per_delivery", "server CPU µs per delivered message", cpu0 is { } c0 && cpu1 is { } c1 && windowDelivered > 0 ? (c1 - c0) * 1e6 / windowDelivered : null, "N2");
        report.Add("server_cpu_pct", "server CPU % of one core", cpu0 is { } a && cpu1 is { } b ? (b - a) * 100 / seconds : null, "N0");
        report.Add("server_rss_mib", "server RSS at end (MiB)", rss1 / 1024.0, "N1");
        report.Add("server_rss_growth_mib", "server RSS growth during run (MiB)", rss1 - rss0 is { } g ? g / 1024.0 : null, "N1");
        report.Add("loadgen_cpu_pct", "loadgen CPU % of one core", (own1 - own0) * 100 / seconds, "N0");
        foreach (var (code, n) in _errors)
        {
            report.Warn($"{n} error frames with code {code}");
        }
        foreach (var (code, n) in _closes)
        {
            report.Warn($"{n} sockets closed by the server ({code})");
        }
        if (missing + Interlocked.Read(ref _gaps) > 0)
        {
            report.Warn("deliveries were lost");
        }
        _ = deliveredAtEnd;
        return report;
    }

    private void Fire(Member member)
    {
        var t0 = Stopwatch.GetTimestamp();
        var text = "t" + t0.ToString(CultureInfo.InvariantCulture);
        var task = member.Peer is { } peer
            ? member.Client.SendDirectAsync(peer, text)
            : member.Client.SendAsync(member.Room.Id, text);
        Interlocked.Increment(ref _issued);
        _ = TrackAsync(member.Room, task, t0);
    }

    private async Task TrackAsync(Room room, Task<SendAck> task, long t0)
    {
        try
        {
            var ack = await task;
            var now = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _acked);
            long seen;
            while ((seen = Volatile.Read(ref room.MaxAcked)) < ack.Seq && Interlocked.CompareExchange(ref room.MaxAcked, ack.Seq, seen) != seen)
            {
            }
            if (t0 >= Volatile.Read(ref _measureFrom) && t0 < _measureTo)
            {
                _ackLatency.RecordValue(Math.Max(1, (now - t0) * 1_000_000 / Stopwatch.Frequency));
            }
            if (now >= Volatile.Read(ref _measureFrom) && now < _measureTo)
            {
                Interlocked.Increment(ref _windowAcked);
            }
        }
        catch (Exception e) when (e is NatterException or ObjectDisposedException or OperationCanceledException)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    private void OnMessage(Member member, ChatMessage m)
    {
        var now = Stopwatch.GetTimestamp();
        if (m.Room != member.Room.Id)
        {
            return;
        }
        Interlocked.Increment(ref _delivered);
        var last = member.LastSeq;
        if (m.Seq == last + 1)
        {
            Volatile.Write(ref member.LastSeq, m.Seq);
        }
        else if (m.Seq > last + 1)
        {
            Interlocked.Add(ref _gaps, m.Seq - last - 1);
            Volatile.Write(ref member.LastSeq, m.Seq);
        }
        else
        {
            Interlocked.Increment(ref _duplicates);
        }
        if (now >= Volatile.Read(ref _measureFrom) && now < _measureTo)
        {
            Interlocked.Increment(ref _windowDelivered);
        }
        if (m.Text.Length > 1 && m.Text[0] == 't' && long.TryParse(m.Text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var t0)
            && t0 >= Volatile.Read(ref _measureFrom) && t0 < _measureTo)
        {
            _latency.RecordValue(Math.Max(1, (now - t0) * 1_000_000 / Stopwatch.Frequency));
        }
    }

    /// <summary>One line per second on stderr: rates over the last second and errors so far.</summary>
    private sealed class Progress : IDisposable
    {
        private readonly TrafficScenario _s;
        private readonly ServerProbe _probe;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Progress(TrafficScenario s, ServerProbe probe)
        {
            _s = s;
            _probe = probe;
            _loop = LoopAsync();
        }

        public void Stop()
        {
            _stop.Cancel();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            var t = 0;
            long issued = 0, acked = 0, delivered = 0;
            var cpu = _probe.CpuSeconds();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    t++;
                    long i = Interlocked.Read(ref _s._issued), a = Interlocked.Read(ref _s._acked), d = Interlocked.Read(ref _s._delivered);
                    var c = _probe.CpuSeconds();
                    var cpuText = c is { } c1 && cpu is { } c0 ? $" srv cpu {(c1 - c0) * 100:N0}%" : "";
                    var p99 = _s._latency.TotalCount > 0 ? _s._latency.GetValueAtPercentile(99) / 1000.0 : 0;
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{t,3}s] sent {i - issued}/s acked {a - acked}/s delivered {d - delivered}/s p99 {p99:N1} ms errors {Interlocked.Read(ref _s._failed)} lost {Interlocked.Read(ref _s._gaps)}{cpuText}"));
                    (issued, acked, delivered, cpu) = (i, a, d, c);
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }
    }
}
