namespace Natter.Server.Common;

/// <summary>
/// The highest seq seen per room, for at most <c>capacity</c> rooms: per-node state that would otherwise grow with
/// every room the node ever saw. Past the capacity, the quarter of rooms touched least recently is forgotten; a
/// forgotten room is simply treated as new the next time it moves (each socket's writer still skips and fills by
/// its own seqs, so nothing is lost or repeated). Thread-safe.
/// </summary>
public sealed class RoomSeqMap(int capacity)
{
    private readonly Dictionary<string, (long Seq, long Touched)> _rooms = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _clock;

    public int Capacity { get; } = capacity;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _rooms.Count;
            }
        }
    }

    public bool TryGet(string room, out long seq)
    {
        lock (_gate)
        {
            if (_rooms.TryGetValue(room, out var entry))
            {
                _rooms[room] = (entry.Seq, ++_clock);
                seq = entry.Seq;
                return true;
            }

            seq = 0;
            return false;
        }
    }

    /// <summary>Sets the room's seq.</summary>
    public void Set(string room, long seq)
    {
        lock (_gate)
        {
            _rooms[room] = (seq, ++_clock);
            TrimLocked();
        }
    }

    /// <summary>Raises the room's seq to at least <paramref name="seq"/>.</summary>
    public void Raise(string room, long seq)
    {
        lock (_gate)
        {
            var current = _rooms.TryGetValue(room, out var entry) ? entry.Seq : long.MinValue;
            _rooms[room] = (Math.Max(current, seq), ++_clock);
            TrimLocked();
        }
    }

    public KeyValuePair<string, long>[] Snapshot()
    {
        lock (_gate)
        {
            return _rooms.Select(r => KeyValuePair.Create(r.Key, r.Value.Seq)).ToArray();
        }
    }

    private void TrimLocked()
    {
        if (_rooms.Count <= Capacity)
        {
            return;
        }

        var forget = _rooms.Count - (Capacity - Capacity / 4);
        foreach (var room in _rooms.OrderBy(r => r.Value.Touched).Take(forget).Select(r => r.Key).ToArray())
        {
            _rooms.Remove(room);
        }
    }
}
