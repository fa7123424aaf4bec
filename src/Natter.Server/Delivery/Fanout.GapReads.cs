using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Delivery;

// A room's gap (a seq the bus lost or reordered) is read from the store off the loop; the room's later events
// wait behind the read in order, and a read that fails is tried again with growing pauses.
public sealed partial class Fanout
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);

    private sealed class GapRead(long after)
    {
        public long After { get; } = after;
        public List<BusEvent> Waiting { get; } = [];
        public int Failures { get; set; }
    }

    private readonly record struct GapAnswer(string Room, IReadOnlyList<StoredEvent>? Messages, Exception? Error);

    /// <summary>One message of a room, in the room's order: delivered now, or behind the room's gap read.</summary>
    private void Offer(StoredEvent m, CancellationToken ct)
    {
        if (_reading.TryGetValue(m.Room, out var pending))
        {
            pending.Waiting.Add(new EventsStored([m]));
            _held++;
            return;
        }

        if (_roomSeq.TryGet(m.Room, out var last))
        {
            if (m.Seq <= last)
            {
                return;
            }

            if (m.Seq > last + 1)
            {
                // A message the bus lost or reordered: read the missing ones (off the loop) before this one.
                var read = new GapRead(last);
                read.Waiting.Add(new EventsStored([m]));
                _held++;
                _reading[m.Room] = read;
                StartRead(m.Room, last, m.Seq, TimeSpan.Zero, ct);
                return;
            }
        }

        _roomSeq.Set(m.Room, m.Seq);
        Deliver(m);
    }

    private void StartRead(string room, long after, long before, TimeSpan delay, CancellationToken ct) => _ = Task.Run(async () =>
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, ct);
            }

            var missing = await log.ReadAsync(room, after, before, (int)Math.Min(before - after, 10_000), ct);
            _answers.Writer.TryWrite(new GapAnswer(room, missing, null));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (Exception e)
        {
            _answers.Writer.TryWrite(new GapAnswer(room, null, e));
        }
    }, CancellationToken.None);

    private async ValueTask OnAnswerAsync(GapAnswer answer, CancellationToken ct)
    {
        if (!_reading.TryGetValue(answer.Room, out var read))
        {
            return;
        }

        var first = ((EventsStored)read.Waiting[0]).Events[0];
        if (answer.Messages is null)
        {
            // The store did not answer: the room keeps waiting, and the read is tried again a little later.
            read.Failures++;
            var pause = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, FirstRetry.Ticks << Math.Min(read.Failures - 1, 10)));
            Log.GapReadFailed(logger, answer.Room, read.After + 1, first.Seq - 1, read.Failures, answer.Error?.Message ?? "");
            StartRead(answer.Room, read.After, first.Seq, pause, ct);
            return;
        }

        _reading.Remove(answer.Room);
        _held -= read.Waiting.Count;
        Log.GapFilled(logger, answer.Room, read.After + 1, first.Seq - 1);
        metrics.GapsFilled.Add(1);
        var last = read.After;
        foreach (var x in answer.Messages)
        {
            if (x.Seq > last)
            {
                Deliver(x);
                last = x.Seq;
            }
        }

        _roomSeq.Set(answer.Room, last);

        // What waited goes on in its order; a message past a gap still open starts the next read, and all after it waits again.
        foreach (var e in read.Waiting)
        {
            switch (e)
            {
                case EventsStored s:
                    foreach (var m in s.Events)
                    {
                        Offer(m, ct);
                    }

                    break;
                case MemberEvent me when _reading.TryGetValue(me.Room, out var again):
                    again.Waiting.Add(me);
                    _held++;
                    break;
                case MemberEvent me:
                    await ApplyMemberAsync(me, ct);
                    break;
            }
        }
    }
}
