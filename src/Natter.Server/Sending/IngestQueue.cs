using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>
/// The ingest queue between the gateway and the store, and its single batching writer (group commit):
/// many messages per transaction, seq assigned inside it, senders acked only after the commit, then the stored
/// messages go on the bus. Bounded: when full, senders wait, so a flood slows senders instead of eating memory.
/// </summary>
public sealed class IngestQueue(IChatStore store, IMessageBus bus, NatterMetrics metrics, IOptions<NatterOptions> options, ILogger<IngestQueue> logger)
    : BackgroundService
{
    private readonly Channel<PendingSend> _queue = Channel.CreateBounded<PendingSend>(
        new BoundedChannelOptions(options.Value.Limits.IngestQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    private readonly int _maxBatch = options.Value.Limits.MaxCommitBatch;
    private readonly TimeSpan _commitInterval = options.Value.Limits.CommitInterval;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Depth => _queue.Reader.Count;

    /// <summary>Accepts a message; throws ChannelClosedException once shutdown has begun.</summary>
    public ValueTask SubmitAsync(PendingSend send, CancellationToken ct)
    {
        metrics.Accepted.Add(1);
        return _queue.Writer.WriteAsync(send, ct);
    }

    /// <summary>Stops accepting and waits until every accepted message is stored and answered.</summary>
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
    // an accepted message is always either stored and acked or answered with an error.
    // It runs on a thread of its own: a commit blocks in fsync, and blocking a thread-pool thread (the server may
    // have one core) would stall every socket for the duration.
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run();
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
        var batch = new List<PendingSend>(_maxBatch);
        var messages = new List<NewMessage>(_maxBatch);
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
                batch.Add(send);
                messages.Add(send.Message);
            }

            CommitAsync(batch, messages).GetAwaiter().GetResult();
        }
    }

    private async Task CommitAsync(List<PendingSend> batch, List<NewMessage> messages)
    {
        IReadOnlyList<AppendResult> results;
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            results = await store.AppendAsync(messages, CancellationToken.None);
        }
        catch (Exception e)
        {
            if (e is StoreUnavailableException)
            {
                Log.CommitRefused(logger, batch.Count, e.Message);
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

        metrics.CommitBatchSize.Record(batch.Count);
        metrics.CommitDuration.Record(TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);

        List<StoredMessage>? stored = null;
        List<PendingAck>? acks = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i].Duplicate)
            {
                batch[i].Repeated(results[i]);
                continue;
            }

            (stored ??= new List<StoredMessage>(batch.Count)).Add(results[i].Message);
            if (batch[i].Stored(results[i]) is { } ack)
            {
                (acks ??= new List<PendingAck>(batch.Count)).Add(ack);
            }
        }

        if (stored is not null)
        {
            metrics.Stored.Add(stored.Count);
            await bus.PublishAsync(new MessagesStored(stored), acks is null ? null : new LocalEnvelope(acks), CancellationToken.None);
        }
    }
}
