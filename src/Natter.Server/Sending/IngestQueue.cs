using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>
/// The ingest queue between the entries and the store, and its single batching writer (group commit): many room
/// events (messages, edits, deletions, reactions) per transaction, each room's seq assigned inside it across every
/// kind, senders answered only after the commit, then the stored events go on the bus. Bounded: when full, senders
/// wait, so a flood slows senders instead of eating memory.
/// One locked room must not stop the others: the writer leaves out rooms another node holds right now
/// (<see cref="IChatStore.AppendSkippingBusyRoomsAsync"/>) and hands them to a second, waiting lane, which waits
/// for their locks (bounded by the store's lock wait) while the writer goes on with every other room. A room stays
/// in the waiting lane until that lane has stored all of its events, so each room's events keep their order.
/// </summary>
public sealed class IngestQueue(IChatStore store, StoreHealth health, IMessageBus bus, NatterMetrics metrics, IOptions<NatterOptions> options,
    ILogger<IngestQueue> logger, FileSweepSignal? fileSweep = null)
    : BackgroundService
{
    private readonly Channel<PendingEvent> _queue = Channel.CreateBounded<PendingEvent>(
        new BoundedChannelOptions(options.Value.Limits.IngestQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    private readonly int _maxBatch = options.Value.Limits.MaxCommitBatch;
    private readonly TimeSpan _commitInterval = options.Value.Limits.CommitInterval;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The waiting lane: rooms that were busy and their events, in arrival order (under _laneGate).
    private readonly Lock _laneGate = new();
    private readonly HashSet<string> _waitingRooms = new(StringComparer.Ordinal);
    private readonly List<PendingEvent> _waiting = [];
    private TaskCompletionSource _laneSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _laneClosing;

    public int Depth => _queue.Reader.Count;

    /// <summary>Accepts a room event; throws ChannelClosedException once shutdown has begun.</summary>
    public ValueTask SubmitAsync(PendingEvent send, CancellationToken ct)
    {
        metrics.Accepted.Add(1);
        return _queue.Writer.WriteAsync(send, ct);
    }

    /// <summary>Stops accepting and waits until every accepted event is stored and answered.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        _queue.Writer.TryComplete();
        Log.Draining(logger, _queue.Reader.Count);
        if (await Task.WhenAny(_drained.Task, Task.Delay(timeout)) != _drained.Task)
        {
            Log.DrainTimedOut(logger, timeout);
        }
    }

    public bool IsRunning => ExecuteTask is { IsCompleted: false };

    // The writer stops only when the queue is completed and empty (DrainAsync), never on the host's token:
    // an accepted event is always either stored and acked or answered with an error.
    // It runs on a thread of its own: a commit blocks in fsync, and blocking a thread-pool thread (the server may
    // have one core) would stall every socket for the duration.
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lane = Task.Run(RunWaitingLaneAsync, CancellationToken.None);
        var thread = new Thread(() =>
        {
            try
            {
                Run();

                // Every accepted event is answered before the writer counts as drained, the waiting lane's too.
                lock (_laneGate)
                {
                    _laneClosing = true;
                    _laneSignal.TrySetResult();
                }

                lane.GetAwaiter().GetResult();
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
            finally
            {
                _drained.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "natter-group-commit",
        };
        thread.Start();
        return done.Task;
    }

    private void Run()
    {
        var batch = new List<PendingEvent>(_maxBatch);
        var messages = new List<NewEvent>(_maxBatch);
        var lastCommit = 0L;
        while (_queue.Reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
        {
            // Group commit sized by load: each commit costs an fsync and rewrites the pages it touches, so under
            // load commits are spaced at least CommitInterval apart and each carries more messages. An idle
            // server commits at once.
            var wait = _commitInterval - TimeProvider.System.GetElapsedTime(lastCommit);
            if (wait > TimeSpan.Zero && _queue.Reader.Count < _maxBatch)
            {
                Thread.Sleep(wait);
            }

            lastCommit = TimeProvider.System.GetTimestamp();
            batch.Clear();
            messages.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var send))
            {
                if (!ToWaitingLane(send))
                {
                    batch.Add(send);
                    messages.Add(send.Event);
                }
            }

            if (batch.Count > 0)
            {
                CommitAsync(batch, messages, skipBusy: true).GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>An event of a room the waiting lane holds goes behind that room's other events there.</summary>
    private bool ToWaitingLane(PendingEvent send)
    {
        lock (_laneGate)
        {
            if (_waitingRooms.Count == 0 || !_waitingRooms.Contains(send.Event.Room))
            {
                return false;
            }

            _waiting.Add(send);
            return true;
        }
    }

    /// <summary>Stores the events of busy rooms, waiting for each room's lock; a room leaves the lane when none of its events is left in it.</summary>
    private async Task RunWaitingLaneAsync()
    {
        var batch = new List<PendingEvent>(_maxBatch);
        var messages = new List<NewEvent>(_maxBatch);
        while (true)
        {
            Task signal;
            lock (_laneGate)
            {
                if (_waiting.Count == 0)
                {
                    if (_laneClosing)
                    {
                        return;
                    }

                    _laneSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    signal = _laneSignal.Task;
                }
                else
                {
                    signal = Task.CompletedTask;
                    var take = Math.Min(_waiting.Count, _maxBatch);
                    batch.AddRange(_waiting.Take(take));
                    _waiting.RemoveRange(0, take);
                }
            }

            if (batch.Count == 0)
            {
                await signal;
                continue;
            }

            messages.AddRange(batch.Select(b => b.Event));
            await CommitAsync(batch, messages, skipBusy: false);
            lock (_laneGate)
            {
                foreach (var room in messages.Select(m => m.Room).Distinct(StringComparer.Ordinal))
                {
                    if (!_waiting.Any(w => w.Event.Room == room))
                    {
                        _waitingRooms.Remove(room);
                    }
                }
            }

            batch.Clear();
            messages.Clear();
        }
    }

    private async Task CommitAsync(List<PendingEvent> batch, List<NewEvent> messages, bool skipBusy)
    {
        IReadOnlyList<AppendResult> results;
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            results = skipBusy
                ? await store.AppendSkippingBusyRoomsAsync(messages, CancellationToken.None)
                : await store.AppendAsync(messages, CancellationToken.None);
        }
        catch (Exception e)
        {
            // A store that went away is logged once (StoreHealth), not once per failed commit.
            if (StoreFaults.Is(e))
            {
                health.Failed("commit", e);
            }
            else
            {
                Log.CommitFailed(logger, batch.Count, e);
            }

            foreach (var send in batch)
            {
                send.Failed(e);
            }

            return;
        }

        health.Succeeded();
        metrics.CommitBatchSize.Record(batch.Count);
        metrics.CommitDuration.Record(TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);

        List<StoredEvent>? stored = null;
        List<PendingAck>? acks = null;
        List<PendingEvent>? busy = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i].Outcome == AppendOutcome.Busy)
            {
                (busy ??= []).Add(batch[i]);
                continue;
            }

            if (results[i].Outcome != AppendOutcome.Stored)
            {
                batch[i].Answer(results[i]);
                continue;
            }

            (stored ??= new List<StoredEvent>(batch.Count)).Add(results[i].Event!);
            if (results[i].Event!.Kind == EventKind.Delete)
            {
                // The deletion may have freed files: their bytes go now, after the commit (docs/protocol.md, files).
                fileSweep?.Wake();
            }

            if (batch[i].Stored(results[i]) is { } ack)
            {
                (acks ??= new List<PendingAck>(batch.Count)).Add(ack);
            }
        }

        if (stored is not null)
        {
            metrics.Stored.Add(stored.Count);
            await bus.PublishAsync(new EventsStored(stored), acks is null ? null : new LocalEnvelope(acks), CancellationToken.None);
        }

        if (busy is not null)
        {
            // Locked by another node right now: the waiting lane takes these rooms (in batch order) and this writer goes on.
            lock (_laneGate)
            {
                foreach (var send in busy)
                {
                    _waitingRooms.Add(send.Event.Room);
                    _waiting.Add(send);
                }

                _laneSignal.TrySetResult();
            }
        }
    }
}
