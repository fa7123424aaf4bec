using StackExchange.Redis;

namespace Natter.Server.Bus.Redis;

/// <summary>
/// Every Redis channel and key name Natter uses, in one place. The prefix (Natter:Bus:RedisPrefix) lets several
/// clusters, or test runs, share one Redis without hearing each other.
/// </summary>
public sealed class RedisChannels(string prefix)
{
    public string Prefix { get; } = prefix + ":";

    /// <summary>The one pub/sub channel every node publishes to and subscribes to.</summary>
    public RedisChannel Events => RedisChannel.Literal(Prefix + "events");

    /// <summary>Set of node ids that have announced themselves (live or not yet swept).</summary>
    public RedisKey Nodes => Prefix + "presence:nodes";

    /// <summary>Prefix for presence keys inside Lua scripts: "{Prefix}presence:alive:{node}" and "{Prefix}presence:node:{node}".</summary>
    public string PresencePrefix => Prefix + "presence:";
}
