using Microsoft.Extensions.Options;
using Natter.Server.Storage;
using StackExchange.Redis;

namespace Natter.Server.Bus.Redis;

/// <summary>
/// Presence across nodes. Each node counts its own sockets per user (the truth for that node) and mirrors the
/// set of its online usernames into Redis ("presence:node:{id}"), next to a heartbeat key ("presence:alive:{id}")
/// that expires after half of Natter:Bus:PresenceTtl unless refreshed (every quarter of it). A user is online while
/// any node with a live heartbeat lists them, so every node computes the same answer. Each node also sweeps every
/// quarter TTL: a node whose heartbeat expired is removed in one atomic script, which returns its users who are
/// online nowhere else; the node whose sweep got them publishes their offline presence (the script's atomicity
/// means exactly one node does). So a dead node's users go offline within the TTL.
///
/// Every announced change of a user's state takes the next number of that user's version ("presence:ver" hash,
/// inside the same script), and every node's fan-out drops an announcement older than the last it passed on, so a
/// late one (published before a partition healed) never overrides a newer one.
///
/// Faults: when Redis cannot be reached, the change is this node's own view and is told to this node's sockets
/// only (never published late); the user goes on a "touched" list and the node is marked for a resync. Any Redis
/// failure (a script, a heartbeat, a lost connection) marks it. The next heartbeat that reaches Redis rewrites this
/// node's set from its sockets and announces, with new versions, every user whose state changed on the way: its users
/// that the others swept while it was cut off come back online, users that left meanwhile go offline, touched users
/// get the cluster's answer. Then it takes a snapshot of the cluster's answer for every user its own sockets were
/// told about, and its fan-out corrects what they missed while it could not hear. All within a quarter TTL of the heal.
/// All Redis work of this node is serialized through one gate, so a resync never races a socket.
/// </summary>
public sealed class RedisPresence(
    RedisConnection redis,
    IMessageBus bus,
    IChatStore store,
    StoreHealth health,
    IPresenceAudience audience,
    IOptions<NatterOptions> options,
    ILogger<RedisPresence> logger) : BackgroundService, IPresence
{
    // A user is "elsewhere" when some other node with a live heartbeat lists them.
    private const string Elsewhere = """
        local function elsewhere(p, me, user)
          for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
            if n ~= me and redis.call('EXISTS', p .. 'alive:' .. n) == 1 and redis.call('SISMEMBER', p .. 'node:' .. n, user) == 1 then
              return true
            end
          end
          return false
        end
        """;

    // ARGV: prefix, node, user. Returns the user's new version when this socket brought them online, else 0.
    private const string OpenScript = Elsewhere + """

        redis.call('SADD', ARGV[1] .. 'node:' .. ARGV[2], ARGV[3])
        if elsewhere(ARGV[1], ARGV[2], ARGV[3]) then return 0 end
        return redis.call('HINCRBY', ARGV[1] .. 'ver', ARGV[3], 1)
        """;

    // ARGV: prefix, node, user. Returns the user's new version when they are now online nowhere, else 0.
    private const string CloseScript = Elsewhere + """

        redis.call('SREM', ARGV[1] .. 'node:' .. ARGV[2], ARGV[3])
        if elsewhere(ARGV[1], ARGV[2], ARGV[3]) then return 0 end
        return redis.call('HINCRBY', ARGV[1] .. 'ver', ARGV[3], 1)
        """;

    // ARGV: prefix, node, expiry ms. Returns 1 when the heartbeat key still existed (nothing to resync).
    private const string HeartbeatScript = """
        local existed = redis.call('EXISTS', ARGV[1] .. 'alive:' .. ARGV[2])
        redis.call('SET', ARGV[1] .. 'alive:' .. ARGV[2], '1', 'PX', ARGV[3])
        redis.call('SADD', KEYS[1], ARGV[2])
        return existed
        """;

    // ARGV: prefix, node, n, n local users..., touched users... Replaces this node's set with the local truth and
    // returns {user, version, online} for each user whose state changed on the way and for each touched user.
    private const string ResyncScript = Elsewhere + """

        local p, me = ARGV[1], ARGV[2]
        local key = p .. 'node:' .. me
        local n = tonumber(ARGV[3])
        local old, now = {}, {}
        for _, u in ipairs(redis.call('SMEMBERS', key)) do old[u] = true end
        redis.call('DEL', key)
        for i = 4, 3 + n do redis.call('SADD', key, ARGV[i]); now[ARGV[i]] = true end
        local out, seen = {}, {}
        local function announce(u)
          if seen[u] then return end
          seen[u] = true
          local online = now[u] or elsewhere(p, me, u)
          table.insert(out, u)
          table.insert(out, redis.call('HINCRBY', p .. 'ver', u, 1))
          table.insert(out, online and 1 or 0)
        end
        for u in pairs(now) do if not old[u] and not elsewhere(p, me, u) then announce(u) end end
        for u in pairs(old) do if not now[u] and not elsewhere(p, me, u) then announce(u) end end
        for i = 4 + n, #ARGV do announce(ARGV[i]) end
        return out
        """;

    // ARGV: prefix. Removes nodes whose heartbeat expired; returns {user, version} for their users who are online nowhere now.
    private const string SweepScript = Elsewhere + """

        local gone = {}
        for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if redis.call('EXISTS', ARGV[1] .. 'alive:' .. n) == 0 then
            for _, u in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'node:' .. n)) do table.insert(gone, u) end
            redis.call('DEL', ARGV[1] .. 'node:' .. n)
            redis.call('SREM', KEYS[1], n)
          end
        end
        local out, seen = {}, {}
        for _, u in ipairs(gone) do
          if not seen[u] and not elsewhere(ARGV[1], '', u) then
            table.insert(out, u)
            table.insert(out, redis.call('HINCRBY', ARGV[1] .. 'ver', u, 1))
          end
          seen[u] = true
        end
        return out
        """;

    // ARGV: prefix. Every user listed by a node with a live heartbeat.
    private const string OnlineScript = """
        local out, seen = {}, {}
        for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if redis.call('EXISTS', ARGV[1] .. 'alive:' .. n) == 1 then
            for _, u in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'node:' .. n)) do
              if not seen[u] then seen[u] = true; table.insert(out, u) end
            end
          end
        end
        return out
        """;

    // ARGV: prefix, users... Returns {user, version, online} for each: the cluster's answer now.
    private const string SnapshotScript = """
        local online = {}
        for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if redis.call('EXISTS', ARGV[1] .. 'alive:' .. n) == 1 then
            for _, u in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'node:' .. n)) do online[u] = true end
          end
        end
        local out = {}
        for i = 2, #ARGV do
          local u = ARGV[i]
          table.insert(out, u)
          table.insert(out, tonumber(redis.call('HGET', ARGV[1] .. 'ver', u) or '0'))
          table.insert(out, online[u] and 1 or 0)
        end
        return out
        """;

    private readonly Dictionary<string, (int Sockets, long UserId)> _local = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _touched = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeSpan _ttl = options.Value.Bus.PresenceTtl;
    private volatile bool _dirty = true;
    private volatile bool _failing;

    private IDatabase Db => redis.Multiplexer.GetDatabase();

    private string Prefix => redis.Names.PresencePrefix;

    private Task<RedisResult> RunAsync(string script, params RedisValue[] args) =>
        Db.ScriptEvaluateAsync(script, [redis.Names.Nodes], [Prefix, .. args]);

    public async ValueTask<PresenceChange?> SocketOpenedAsync(long userId, string username, CancellationToken ct)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            var (n, _) = _local.GetValueOrDefault(username);
            _local[username] = (n + 1, userId);
            return n > 0 ? null : await ChangeAsync(OpenScript, userId, username);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<PresenceChange?> SocketClosedAsync(long userId, string username, CancellationToken ct)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            var (n, _) = _local.GetValueOrDefault(username);
            if (n > 1)
            {
                _local[username] = (n - 1, userId);
                return null;
            }

            _local.Remove(username);
            return await ChangeAsync(CloseScript, userId, username);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs an open/close script (under _gate). When Redis cannot be reached the change is this node's view only:
    /// announced to this node's sockets, the user touched, and the node's set rewritten at the next heartbeat.
    /// </summary>
    private async Task<PresenceChange?> ChangeAsync(string script, long userId, string username)
    {
        try
        {
            var version = (long)await RunAsync(script, redis.NodeId, username);
            Recovered();
            return version > 0 ? new PresenceChange(version, ThisNodeOnly: false) : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _touched[username] = userId;
            Failed(e);
            return new PresenceChange(0, ThisNodeOnly: true);
        }
    }

    /// <summary>Marks the node for a resync; logs the first failure of a run of them only.</summary>
    private void Failed(Exception e)
    {
        _dirty = true;
        if (!_failing)
        {
            _failing = true;
            Log.PresenceRedisFailed(logger, e.GetType().Name, e.Message);
        }
    }

    private void Recovered() => _failing = false;

    public async ValueTask<IReadOnlyCollection<string>> OnlineUsernamesAsync(CancellationToken ct)
    {
        try
        {
            var result = await RunAsync(OnlineScript);
            return ((string?[]?)result ?? []).OfType<string>().ToArray();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Without Redis this node knows only its own sockets.
            Failed(e);
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                return [.. _local.Keys];
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A connection that failed may have lost writes or pub/sub messages: resync at the next heartbeat.
        redis.Multiplexer.ConnectionFailed += (_, _) => _dirty = true;
        var every = _ttl / 4;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await HeartbeatAsync(stoppingToken);
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Failed(e);
            }
            catch (Exception e) when (StoreFaults.Is(e))
            {
                health.Failed("presence", e);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.PresenceSweepFailed(logger, e);
            }

            try
            {
                await Task.Delay(every, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // A node that stops cleanly leaves at once instead of waiting for its heartbeat to expire.
        try
        {
            await Db.KeyDeleteAsync(Prefix + "alive:" + redis.NodeId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Log.PresenceRedisFailed(logger, e.GetType().Name, e.Message);
        }
    }

    private async Task HeartbeatAsync(CancellationToken ct)
    {
        RedisResult? changes = null;
        Dictionary<string, long> ids;
        int users;
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            // Cleared before the calls: a failure during them marks the node again.
            var dirty = _dirty;
            _dirty = false;
            var existed = (int)await RunAsync(HeartbeatScript, redis.NodeId, (long)(_ttl / 2).TotalMilliseconds) == 1;
            if (existed && !dirty)
            {
                Recovered();
                return;
            }

            // First beat, Redis restarted, this node was swept, or a write or message may have been lost.
            RedisValue[] args =
            [
                redis.NodeId, _local.Count, .. _local.Keys.Select(k => (RedisValue)k),
                .. _touched.Keys.Where(k => !_local.ContainsKey(k)).Select(k => (RedisValue)k),
            ];
            changes = await RunAsync(ResyncScript, args);
            ids = _local.ToDictionary(kv => kv.Key, kv => kv.Value.UserId, StringComparer.Ordinal);
            users = _local.Count;
            foreach (var (name, id) in _touched)
            {
                ids.TryAdd(name, id);
            }

            _touched.Clear();
            Recovered();
        }
        catch
        {
            _dirty = true;
            throw;
        }
        finally
        {
            _gate.Release();
        }

        var announced = 0;
        var list = (RedisResult[]?)changes ?? [];
        for (var i = 0; i + 2 < list.Length; i += 3)
        {
            var username = (string)list[i]!;
            if (await AnnounceAsync(username, ids.TryGetValue(username, out var id) ? id : null, (bool)list[i + 2], (long)list[i + 1], ct))
            {
                announced++;
            }
        }

        // What this node's sockets were told while it could not hear: checked against the cluster's answer.
        var told = audience.UsersTold();
        var snapshot = new Dictionary<string, (long Version, bool Online)>(StringComparer.Ordinal);
        if (told.Count > 0)
        {
            var answer = (RedisResult[]?)await RunAsync(SnapshotScript, [.. told.Select(u => (RedisValue)u)]) ?? [];
            for (var i = 0; i + 2 < answer.Length; i += 3)
            {
                snapshot[(string)answer[i]!] = ((long)answer[i + 1], (bool)answer[i + 2]);
            }

            await bus.PublishAsync(new PresenceSnapshot(snapshot), LocalEnvelope.ThisNode, ct);
        }

        Log.PresenceResynced(logger, users, announced, snapshot.Count);
    }

    /// <summary>Publishes one user's state with its version; the user's rooms come from the store.</summary>
    private async Task<bool> AnnounceAsync(string username, long? userId, bool online, long version, CancellationToken ct)
    {
        var id = userId ?? (await store.FindUserAsync(username, ct))?.Id;
        if (id is not { } known)
        {
            return false;
        }

        var rooms = await store.ListRoomsOfUserAsync(known, ct);
        await bus.PublishAsync(new PresenceEvent(known, username, online, rooms.Select(r => r.Id).ToArray(), version), ct);
        return true;
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        var gone = (RedisResult[]?)await RunAsync(SweepScript) ?? [];
        for (var i = 0; i + 1 < gone.Length; i += 2)
        {
            await AnnounceAsync((string)gone[i]!, null, online: false, (long)gone[i + 1], ct);
        }

        if (gone.Length > 0)
        {
            Log.PresenceSwept(logger, gone.Length / 2);
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }
}
