using System.Collections.Concurrent;
using System.Text;

namespace Natter.ClusterTests;

/// <summary>
/// What a fault test's clients saw, checked against Natter's delivery claim: every ack a sender got, and every
/// message frame each socket received, per room. A "view" is one user's sockets in the order they were open (a
/// reconnected socket syncs from the last seq its predecessor had), so together they must show the room as one run.
/// <see cref="Check"/> reports, per room:
/// lost (acked but not stored under that seq, or not delivered to a view that was open for it),
/// duplicated (a seq twice in a view), gaps (a seq skipped inside a view), order (a seq not above the one before),
/// and disagreements (one seq carrying two client_ids, or one client_id acked with two seqs).
/// </summary>
public sealed class History
{
    private readonly ConcurrentDictionary<(string Room, string ClientId), long> _acks = new();
    private readonly ConcurrentQueue<string> _ackDisagreements = new();
    private readonly List<View> _views = [];
    private readonly Lock _gate = new();

    public int AckCount => _acks.Count;

    /// <summary>Records an ack; the same client_id acked again (a resend) must carry the same seq.</summary>
    public void Acked(string room, string clientId, long seq)
    {
        var first = _acks.GetOrAdd((room, clientId), seq);
        if (first != seq)
        {
            _ackDisagreements.Enqueue($"{clientId} in {room} acked as seq {first} and as seq {seq}");
        }
    }

    /// <summary>The highest seq acked in the room (0 when none).</summary>
    public long LastAcked(string room) => _acks.Where(a => a.Key.Room == room).Select(a => a.Value).DefaultIfEmpty(0).Max();

    /// <summary>A user's view of one room, starting after <paramref name="startSeq"/> (the welcome's last_seq).</summary>
    public View Watch(string name, string room, long startSeq)
    {
        var view = new View(name, room, startSeq);
        lock (_gate)
        {
            _views.Add(view);
        }

        return view;
    }

    /// <summary>One user's sockets, in the order they were open, for one room.</summary>
    public sealed class View(string name, string room, long startSeq)
    {
        private readonly List<TestSocket> _sockets = [];

        public string Name { get; } = name;
        public string Room { get; } = room;
        public long StartSeq { get; } = startSeq;

        public void Add(TestSocket socket)
        {
            lock (_sockets)
            {
                _sockets.Add(socket);
            }
        }

        public IReadOnlyList<IReadOnlyList<ReceivedMessage>> Runs()
        {
            lock (_sockets)
            {
                return _sockets.Select(s => s.Messages(Room)).ToArray();
            }
        }

        public long LastSeq => Runs().SelectMany(r => r).Select(m => m.Seq).DefaultIfEmpty(StartSeq).Max();
    }

    /// <summary>Checks every view and every ack against the stored log of each room (seq → client_id).</summary>
    public Report Check(IReadOnlyDictionary<string, IReadOnlyList<ReceivedMessage>> stored)
    {
        var report = new Report();
        report.Disagreements.AddRange(_ackDisagreements);
        var logs = stored.ToDictionary(kv => kv.Key, kv => kv.Value.ToDictionary(m => m.Seq, m => m.ClientId));

        foreach (var ((room, clientId), seq) in _acks)
        {
            if (!logs.TryGetValue(room, out var log) || !log.TryGetValue(seq, out var storedId) || storedId != clientId)
            {
                report.Lost.Add($"{clientId} acked as {room}#{seq} but the store has {(log is not null && log.TryGetValue(seq, out var other) ? other : "nothing")} there");
            }
        }

        View[] views;
        lock (_gate)
        {
            views = [.. _views];
        }

        foreach (var view in views)
        {
            var log = logs.GetValueOrDefault(view.Room) ?? [];
            var seen = new HashSet<long>();
            var expected = view.StartSeq + 1;
            var runIndex = 0;
            foreach (var run in view.Runs())
            {
                long? previous = null;
                foreach (var m in run)
                {
                    var at = $"{view.Name} {view.Room} socket {runIndex}";
                    if (!seen.Add(m.Seq))
                    {
                        report.Duplicated.Add($"{at}: seq {m.Seq} again");
                    }

                    if (previous is { } p && m.Seq <= p)
                    {
                        report.Order.Add($"{at}: seq {m.Seq} after {p}");
                    }
                    else if (m.Seq > expected)
                    {
                        report.Gaps.Add($"{at}: seq {expected}..{m.Seq - 1} skipped");
                    }

                    if (log.TryGetValue(m.Seq, out var storedId) && storedId != m.ClientId)
                    {
                        report.Disagreements.Add($"{at}: seq {m.Seq} is {m.ClientId}, the store has {storedId}");
                    }

                    previous = m.Seq;
                    expected = Math.Max(expected, m.Seq + 1);
                }

                runIndex++;
            }

            // Every acked message after the view's start and up to what it has seen must be in it.
            var last = expected - 1;
            foreach (var ((room, clientId), seq) in _acks)
            {
                if (room == view.Room && seq > view.StartSeq && seq <= last && !seen.Contains(seq))
                {
                    report.Lost.Add($"{view.Name} never got acked {clientId} ({room}#{seq})");
                }
            }
        }

        return report;
    }

    public sealed class Report
    {
        public List<string> Lost { get; } = [];
        public List<string> Duplicated { get; } = [];
        public List<string> Gaps { get; } = [];
        public List<string> Order { get; } = [];
        public List<string> Disagreements { get; } = [];

        public bool Clean => Lost.Count + Duplicated.Count + Gaps.Count + Order.Count + Disagreements.Count == 0;

        public override string ToString()
        {
            var s = new StringBuilder();
            foreach (var (name, list) in new[] { ("lost", Lost), ("duplicated", Duplicated), ("gaps", Gaps), ("order", Order), ("disagreements", Disagreements) })
            {
                s.Append(System.Globalization.CultureInfo.InvariantCulture, $"{name}: {list.Count}");
                foreach (var line in list.Take(5))
                {
                    s.Append("\n  ").Append(line);
                }

                s.Append('\n');
            }

            return s.ToString();
        }
    }
}
