using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Server.Storage;
using StackExchange.Redis;

namespace Natter.Server.Bus.Redis;

/// <summary>
/// The cluster bus on Redis pub/sub. An event goes straight into this node's bounded local queue (local
/// short-circuit: local sockets never wait for Redis, and keep working while it is down) and is published on one
/// channel; every node reads that channel through an ordered subscription, skips its own events and queues the
/// rest. Redis keeps one publisher's order, so a room's events from one node arrive in seq order; events from
/// two nodes, or ones lost while Redis was away, leave seq gaps the fan-out fills from the store. After a
/// reconnect the bus also looks up every room it has seen recently (at most Limits.TrackedRooms) and hands the fan-out the newest event of any room
/// that moved meanwhile, so the gap is filled even if the room stays quiet.
/// Full mode of the local queue: the writer waits (publishers slow down; Redis buffers the subscription meanwhile).
/// </summary>
public sealed class RedisBus : IMessageBus, IHostedLifecycleService, IDisposable
{
    private readonly RedisConnection _redis;
    private readonly IChatStore _store;
    private readonly ILogger<RedisBus> _logger;
    private readonly TimeProvider _clock;
    private readonly NatterMetrics _metrics;
    private readonly Channel<BusDelivery> _local;
    private readonly RoomSeqMap _seen;
    private readonly CancellationTokenSource _stopping = new();
    private ChannelMessageQueue? _subscription;
    private Task? _receiver;

    // Membership changes (ChangeId > 0): the ids this node has handed its fan-out (bounded, oldest forgotten first),
    // the highest of them, and the ones this node failed to publish (sent again after a reconnect, or before its
    // next publish).
    private readonly Lock _changesGate = new();
    private readonly HashSet<long> _changesSeen = [];
    private readonly Queue<long> _changesOrder = new();
    private readonly SortedDictionary<long, (BusEvent Event, byte[] Payload)> _failed = [];
    private readonly int _changesCapacity;
    private readonly long _startedAt;
    private long _changeWatermark;
    private int _replaying;

    public RedisBus(RedisConnection redis, IChatStore store, IOptions<NatterOptions> options, TimeProvider clock, NatterMetrics metrics,
        ILogger<RedisBus> logger)
    {
        _metrics = metrics;
        _redis = redis;
        _store = store;
        _clock = clock;
        _logger = logger;
        _seen = new RoomSeqMap(options.Value.Limits.TrackedRooms);
        _changesCapacity = options.Value.Limits.TrackedRooms;
        _startedAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
        _local = Channel.CreateBounded<BusDelivery>(new BoundedChannelOptions(options.Value.Limits.IngestQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<BusDelivery> Events => _local.Reader;

    public bool IsHealthy => _redis.IsConnected && _subscription is not null
        && _redis.Multiplexer.GetSubscriber().IsConnected(_redis.Names.Events);

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var sub = _redis.Multiplexer.GetSubscriber();
        _subscription = await sub.SubscribeAsync(_redis.Names.Events);
        _redis.Multiplexer.ConnectionRestored += (_, e) =>
        {
            // Membership changes first, on either connection: this node's unconfirmed ones go out again, and the
            // change log is replayed, so a kick made anywhere while this node was cut off applies before the rooms'
            // messages are caught up below.
            ResendFailed();
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                _ = RecoverAsync();
            }
        };
        _receiver = Task.Run(ReceiveLoopAsync, CancellationToken.None);
    }

    public async ValueTask PublishAsync(BusEvent evt, LocalEnvelope? local, CancellationToken ct)
    {
        Remember(evt);
        if (evt.ChangeId > 0)
        {
            FirstSight(evt.ChangeId);
        }

        await _local.Writer.WriteAsync(new BusDelivery(evt, local), ct);
        if (local?.ThisNodeOnly == true)
        {
            return;
        }

        byte[] payload;
        try
        {
            payload = JsonSerializer.SerializeToUtf8Bytes(
                BusEnvelope.Wrap(_redis.NodeId, _clock.GetUtcNow().ToUnixTimeMilliseconds(), evt), BusJsonContext.Default.BusEnvelope);
        }
        catch (NotSupportedException e)
        {
            Log.BusPublishFailed(_logger, evt.GetType().Name, e);
            return;
        }

        // Not awaited: the multiplexer writes publishes in call order, and the ingest writer must not wait a
        // timeout per batch while Redis is down. A lost publish is a gap the other nodes fill from the store.
        // Membership changes whose publish failed go out again first, so the others hear them before what follows.
        ResendFailed();
        _ = PublishRemoteAsync(evt, payload);
    }

    private async Task PublishRemoteAsync(BusEvent evt, byte[] payload)
    {
        try
        {
            await _redis.Multiplexer.GetSubscriber().PublishAsync(_redis.Names.Events, payload);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            _metrics.BusPublishFailures.Add(1);
            Log.BusPublishFailed(_logger, evt.GetType().Name, e);
            if (evt.ChangeId > 0)
            {
                lock (_changesGate)
                {
                    _failed[evt.ChangeId] = (evt, payload);
                    while (_failed.Count > _changesCapacity)
                    {
                        _failed.Remove(_failed.Keys.First());
                    }
                }
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var queue = _subscription!;
        while (!_stopping.IsCancellationRequested)
        {
            ChannelMessage msg;
            try
            {
                msg = await queue.ReadAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                return;
            }

            var payload = (byte[])msg.Message!;
            if (BusEnvelope.IsFrom(payload, _redis.NodeId))
            {
                continue; // this node's own publish: handed to its fan-out already
            }

            BusEnvelope? envelope;
            try
            {
                envelope = JsonSerializer.Deserialize(payload, BusJsonContext.Default.BusEnvelope);
            }
            catch (JsonException e)
            {
                Log.BusBadPayload(_logger, e);
                continue;
            }

            if (envelope is null || envelope.Node == _redis.NodeId || envelope.Unwrap() is not { } evt)
            {
                continue;
            }

            _metrics.BusLag.Record(Math.Max(0, _clock.GetUtcNow().ToUnixTimeMilliseconds() - envelope.SentAt));
            if (evt.ChangeId > 0 && !FirstSight(evt.ChangeId))
            {
                continue; // a membership change this node replayed from the log already (or one sent again)
            }

            Remember(evt);
            try
            {
                await _local.Writer.WriteAsync(new BusDelivery(evt), _stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                return;
            }
        }
    }

    /// <summary>Notes the highest seq seen per room, for recovery after a reconnect.</summary>
    private void Remember(BusEvent evt)
    {
        switch (evt)
        {
            case EventsStored s:
                foreach (var e in s.Events)
                {
                    _seen.Raise(e.Room, e.Seq);
                }

                break;
            case MemberEvent me:
                _seen.Raise(me.Room, me.LastSeq);
                break;
            case DirectRoomEvent d:
                _seen.Raise(d.Room, d.LastSeq);
                break;
        }
    }

    /// <summary>
    /// After the subscription comes back: any room that moved while this node was deaf gets its newest event
    /// handed to the fan-out, whose gap filling reads the rest from the store. Run twice, because publishes that
    /// raced the resubscription may still be missing on the first pass.
    /// </summary>
    private async Task RecoverAsync()
    {
        try
        {
            for (var pass = 0; pass < 2 && !_stopping.IsCancellationRequested; pass++)
            {
                await Task.Delay(pass == 0 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1), _stopping.Token);
                await ReplayChangesAsync();
                var rooms = 0;
                foreach (var (room, seen) in _seen.Snapshot())
                {
                    var newest = await _store.ReadEventsAsync(room, seen, long.MaxValue, 1, oldestFirst: false, _stopping.Token);
                    if (newest.Count == 1)
                    {
                        rooms++;
                        Remember(new EventsStored(newest));
                        await _local.Writer.WriteAsync(new BusDelivery(new EventsStored(newest)), _stopping.Token);
                    }
                }

                Log.BusRecovered(_logger, rooms, _seen.Count);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (StoreFaults.Is(e))
        {
            // The store is away too (StoreHealth logs that): one line, and the fan-out fills the gaps on the rooms' next messages.
            Log.BusRecoveryStoreUnavailable(_logger, e.GetType().Name, e.Message);
        }
        catch (Exception e)
        {
            Log.BusRecoveryFailed(_logger, e);
        }
    }

    /// <summary>True the first time this node meets a membership change (then it is remembered).</summary>
    private bool FirstSight(long changeId)
    {
        lock (_changesGate)
        {
            if (!_changesSeen.Add(changeId))
            {
                return false;
            }

            _changesOrder.Enqueue(changeId);
            while (_changesOrder.Count > _changesCapacity)
            {
                _changesSeen.Remove(_changesOrder.Dequeue());
            }

            _changeWatermark = Math.Max(_changeWatermark, changeId);
            return true;
        }
    }

    // Changes are numbered when written, and two nodes' writes may commit out of that order; the replay starts
    // this far below the highest id seen and skips what was seen, so a change that committed late is not missed.
    private const long ReplayOverlap = 1000;
    private const int ReplayPage = 1000;

    /// <summary>
    /// Hands the fan-out (this node only) every membership change in the store's log that this node has not seen:
    /// those published while it could not hear. Starts a little below the highest change seen (or at this node's
    /// start), in id order.
    /// </summary>
    private async Task ReplayChangesAsync()
    {
        if (Interlocked.Exchange(ref _replaying, 1) != 0)
        {
            return;
        }

        try
        {
            long after;
            lock (_changesGate)
            {
                after = Math.Max(0, _changeWatermark - ReplayOverlap);
            }

            var since = _startedAt - (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
            var replayed = 0;
            while (!_stopping.IsCancellationRequested)
            {
                var page = await _store.ReadRoomChangesAsync(after, since, ReplayPage, _stopping.Token);
                foreach (var row in page)
                {
                    after = row.Id;
                    if (BusWire.Decode(row.Payload) is not { } evt || !FirstSight(row.Id))
                    {
                        continue;
                    }

                    evt = evt with { ChangeId = row.Id };
                    Remember(evt);
                    await _local.Writer.WriteAsync(new BusDelivery(evt, LocalEnvelope.ThisNode), _stopping.Token);
                    replayed++;
                }

                if (page.Count < ReplayPage)
                {
                    break;
                }
            }

            Log.BusChangesReplayed(_logger, replayed);
        }
        finally
        {
            Volatile.Write(ref _replaying, 0);
        }
    }

    /// <summary>Publishes again, in id order, this node's membership changes whose publish failed (they fail again into the same list).</summary>
    private void ResendFailed()
    {
        KeyValuePair<long, (BusEvent Event, byte[] Payload)>[] failed;
        lock (_changesGate)
        {
            if (_failed.Count == 0)
            {
                return;
            }

            failed = [.. _failed];
            _failed.Clear();
        }

        foreach (var (_, (evt, payload)) in failed)
        {
            _ = PublishRemoteAsync(evt, payload);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_receiver is not null)
        {
            await _receiver.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();
}
