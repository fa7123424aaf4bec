using Natter.Protocol;

namespace Natter.Server.Delivery;

// The socket's two outbound queues under one lock: control (acks, pongs, errors, syncs, closes; bounded by bytes) ahead
// of data (room events and event frames; bounded by count), and how the writer is woken for them.
public sealed partial class Connection
{
    private enum Kind { Frame, RoomEvent, Sync, Release, Track, Close }

    /// <summary>One queued thing to do; Payload is a frame (byte[]), an OutboundEvent or a sync request.</summary>
    private readonly record struct Item(Kind Kind, object? Payload = null, string? Text = null, long Number = 0)
    {
        /// <summary>What the item costs in memory while queued: its bytes plus the queue slot and object headers.</summary>
        public int Cost => ItemOverhead + Kind switch
        {
            Kind.Frame => ((byte[])Payload!).Length,
            Kind.Sync => ((IReadOnlyDictionary<string, long>)Payload!).Sum(r => 2 * r.Key.Length + ItemOverhead) + 2 * (Text?.Length ?? 0),
            _ => 2 * (Text?.Length ?? 0),
        };
    }

    private const int ItemOverhead = 64;

    private void EnqueueData(Item item, bool wake = true)
    {
        if (IsClosing)
        {
            return;
        }

        int queued;
        lock (_gate)
        {
            queued = ++_dataCount;
            if (queued <= _dataLimit && !_completed)
            {
                (_data ??= new Queue<Item>()).Enqueue(item);
            }
        }

        if (queued > _dataLimit)
        {
            Log.SlowReaderClosed(_logger, Id, Username, queued);
            _metrics.SlowReaderCloses.Add(1);
            Close(CloseCodes.TryAgainLater, "too far behind: reconnect and sync");
            return;
        }

        if (wake)
        {
            Wake();
        }
    }

    private void Enqueue(Item item, bool control, bool wake = true)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            (_control ??= new Queue<Item>()).Enqueue(item);
            _controlBytes += item.Cost;
        }

        if (wake)
        {
            Wake();
        }
    }

    private void Wake(bool inline = false)
    {
        lock (_gate)
        {
            if (!_sleeping)
            {
                return;
            }

            _sleeping = false;
        }

        // The writer's continuation runs where the wait completes: here, or on the thread pool.
        if (inline)
        {
            _wake.SetResult(true);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static c => c._wake.SetResult(true), this, preferLocal: false);
        }
    }

    /// <summary>The next item, control first; data only once released and not closing.</summary>
    private bool TryTake(out Item item)
    {
        lock (_gate)
        {
            if (_control is { Count: > 0 })
            {
                item = _control.Dequeue();
                _controlBytes -= item.Cost;
                if (_control.Count == 0)
                {
                    _control = null;
                }

                // A paused reader resumes once half the bound is free again, so it does not wake for every frame.
                if (_room is not null && _controlBytes <= _controlLimit / 2)
                {
                    _room.TrySetResult();
                    _room = null;
                }

                return true;
            }

            if (_released && !IsClosing && _data is { Count: > 0 })
            {
                item = _data.Dequeue();
                _dataCount--;
                if (_data.Count == 0)
                {
                    _data = null;
                }

                return true;
            }

            item = default;
            return false;
        }
    }

    /// <summary>
    /// A wait that completes when something may be ready (or the socket is aborted); null if something is. The
    /// writer alone waits, one wait at a time, so one completion source serves every wait.
    /// </summary>
    private ValueTask? WaitForWork()
    {
        lock (_gate)
        {
            var ready = _control is { Count: > 0 } || (_released && !IsClosing && _data is { Count: > 0 });
            if (ready || _aborted.IsCancellationRequested)
            {
                return null;
            }

            // Continuations run synchronously: Wake decides the thread (see there).
            _wake.Reset();
            _sleeping = true;
            return new ValueTask(this, _wake.Version);
        }
    }

    void System.Threading.Tasks.Sources.IValueTaskSource.GetResult(short token) => _wake.GetResult(token);

    System.Threading.Tasks.Sources.ValueTaskSourceStatus System.Threading.Tasks.Sources.IValueTaskSource.GetStatus(short token) =>
        _wake.GetStatus(token);

    void System.Threading.Tasks.Sources.IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token,
        System.Threading.Tasks.Sources.ValueTaskSourceOnCompletedFlags flags) => _wake.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// Called by the receive loop before it reads the next frame: true at once while the control queue is under its
    /// bound; otherwise waits (the socket is not read, so the client is slowed by TCP) until the writer has sent half
    /// of it. False when that takes longer than <paramref name="timeout"/>: the client does not read what it asks for.
    /// </summary>
    public async ValueTask<bool> WaitForRoomAsync(TimeSpan timeout)
    {
        Task wait;
        lock (_gate)
        {
            if (_controlBytes < _controlLimit || _completed)
            {
                return true;
            }

            wait = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        _metrics.ReadsPaused.Add(1);
        try
        {
            await wait.WaitAsync(timeout, _aborted.Token);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
