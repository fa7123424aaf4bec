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
/// All Redis work of this node is serialized through one gate, so a heartbeat's full resync never races a socket.
/// When Redis fails, the local count still answers and the next heartbeat rewrites this node's set.
/// </summary>
public sealed class RedisPresence(
    RedisConnection redis,
    IMessageBus bus,
    IChatStore store,
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

    // ARGV: prefix, node, user. Returns 1 when the user is online nowhere else (this socket brought them online).
    private const string OpenScript = Elsewhere + """

        redis.call('SADD', ARGV[1] .. 'node:' .. ARGV[2], ARGV[3])
        if elsewhere(ARGV[1], ARGV[2], ARGV[3]) then return 0 end
        return 1
        """;

    // ARGV: prefix, node, user. Returns 1 when the user is now online nowhere.
    private const string CloseScript = Elsewhere + """

        redis.call('SREM', ARGV[1] .. 'node:' .. ARGV[2], ARGV[3])
        if elsewhere(ARGV[1], ARGV[2], ARGV[3]) then return 0 end
        return 1
        """;

    // ARGV: prefix, node, expiry ms. Returns 1 when the heartbeat key still existed (nothing to resync).
    private const string HeartbeatScript = """
        local existed = redis.call('EXISTS', ARGV[1] .. 'alive:' .. ARGV[2])
        redis.call('SET', ARGV[1] .. 'alive:' .. ARGV[2], '1', 'PX', ARGV[3])
        redis.call('SADD', KEYS[1], ARGV[2])
        return existed
        """;

    // ARGV: prefix, node, users... Replaces this node's set with the local truth.
    private const string ResyncScript = """
        local key = ARGV[1] .. 'node:' .. ARGV[2]
        redis.call('DEL', key)
        for i = 3, #ARGV do redis.call('SADD', key, ARGV[i]) end
        return #ARGV - 2
        """;

    // ARGV: prefix. Removes nodes whose heartbeat expired; returns their users who are online nowhere now.
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
          if not seen[u] and not elsewhere(ARGV[1], '', u) then table.insert(out, u) end
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

    private readonly Dictionary<string, int> _local = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeSpan _ttl = options.Value.Bus.PresenceTtl;
    private bool _dirty = true;

    private IDatabase Db => redis.Multiplexer.GetDatabase();

    private string Prefix => redis.Names.PresencePrefix;

    private Task<RedisResult> RunAsync(string script, params RedisValue[] args) =>
        Db.ScriptEvaluateAsync(script, [redis.Names.Nodes], [Prefix, .. args]);

    public async ValueTask<bool> SocketOpenedAsync(long userId, string username, CancellationToken ct)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            var n = _local.GetValueOrDefault(username) + 1;
            _local[username] = n;
            if (n > 1)
            {
                return false;
            }

            return await ChangedAsync(OpenScript, username);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs an open/close script (under _gate); true when the user's cluster-wide state changed. When Redis
    /// cannot be reached the change is assumed (this node's view) and the node's set is rewritten on reconnect.
    /// </summary>
    private async Task<bool> ChangedAsync(string script, string username)
    {
        try
        {
            return (int)await RunAsync(script, redis.NodeId, username) == 1;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _dirty = true;
            Log.PresenceRedisFailed(logger, e);
            return true;
        }
    }

    public async ValueTask<bool> SocketClosedAsync(long userId, string username, CancellationToken ct)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            var n = _local.GetValueOrDefault(username) - 1;
            if (n > 0)
            {
                _local[username] = n;
                return false;
            }

            _local.Remove(username);
            return await ChangedAsync(CloseScript, username);
        }
        finally
        {
            _gate.Release();
        }
    }

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
            Log.PresenceRedisFailed(logger, e);
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
        var every = _ttl / 4;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await HeartbeatAsync();
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Log.PresenceRedisFailed(logger, e);
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
            Log.PresenceRedisFailed(logger, e);
        }
    }

    private async Task HeartbeatAsync()
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            var existed = (int)await RunAsync(HeartbeatScript, redis.NodeId, (long)(_ttl / 2).TotalMilliseconds) == 1;
            if (!existed || _dirty)
            {
                // First beat, Redis restarted, or this node was swept or missed a write: rewrite its set.
                RedisValue[] args = [redis.NodeId, .. _local.Keys.Select(k => (RedisValue)k)];
                await RunAsync(ResyncScript, args);
                _dirty = false;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        var gone = ((string?[]?)await RunAsync(SweepScript) ?? []).OfType<string>().ToArray();
        foreach (var username in gone)
        {
            var user = await store.FindUserAsync(username, ct);
            if (user is null)
            {
                continue;
            }

            var rooms = await store.ListRoomsOfUserAsync(user.Id, ct);
            await bus.PublishAsync(new PresenceEvent(user.Id, user.Username, false, rooms.Select(r => r.Id).ToArray()), ct);
        }

        if (gone.Length > 0)
        {
            Log.PresenceSwept(logger, gone.Length);
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }
}
