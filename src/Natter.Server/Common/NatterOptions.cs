using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Natter.Server.Common;

/// <summary>Everything configurable, bound from the "Natter" section (appsettings, NATTER__ environment, command line).</summary>
public sealed class NatterOptions
{
    public const string Section = "Natter";

    [ValidateObjectMembers]
    public StorageOptions Storage { get; set; } = new();
    [ValidateObjectMembers]
    public BusOptions Bus { get; set; } = new();
    [ValidateObjectMembers]
    public LimitOptions Limits { get; set; } = new();
    [ValidateObjectMembers]
    public SocketOptions WebSocket { get; set; } = new();
    [ValidateObjectMembers]
    public AuthOptions Auth { get; set; } = new();
    /// <summary>Checked by the cross-setting validator (addresses and networks parse).</summary>
    public NetworkOptions Network { get; set; } = new();
    [ValidateObjectMembers]
    public MetricsOptions Metrics { get; set; } = new();
    [ValidateObjectMembers]
    public FilesOptions Files { get; set; } = new();

    /// <summary>Name of this node in logs and metrics; defaults to the machine name and process id.</summary>
    public string? NodeName { get; set; }

    /// <summary>Usernames of the server admins (any letter case), who may delete any message.</summary>
    public string[] Admins { get; set; } = [];
}

public sealed class StorageOptions
{
    /// <summary>"sqlite" (embedded, default) or "mysql".</summary>
    [Required, RegularExpression("^(sqlite|mysql)$")]
    public string Provider { get; set; } = "sqlite";

    /// <summary>SQLite file, relative to the working folder.</summary>
    [Required]
    public string SqlitePath { get; set; } = "natter.db";

    /// <summary>SQLite synchronous mode: FULL survives a power cut, NORMAL survives a process crash only.</summary>
    [Required, RegularExpression("^(FULL|NORMAL|EXTRA)$")]
    public string SqliteSynchronous { get; set; } = "FULL";

    public string? MySqlConnectionString { get; set; }

    /// <summary>While the store is unavailable, one log line this often with the count of failed operations.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan OutageLogInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>MySQL: how long one statement may take before the node gives up on it (and on its connection).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MySqlCommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>MySQL: how long a transaction waits for a room another node holds (innodb_lock_wait_timeout; whole seconds).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan MySqlLockWaitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// MySQL: a transaction this node leaves idle this long (say, the node was cut off in the middle of a commit) is
    /// rolled back by the server, which frees the room locks it held (whole seconds).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MySqlIdleTransactionTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// SQLite: new messages' words wait in a plain table and join the full-text index once this many wait (or
    /// <see cref="SqliteSearchIndexDelay"/> after the last move), in one go: each move writes one index segment. A
    /// search moves whatever waits first, so it always finds every stored message.
    /// </summary>
    [Range(1, 100_000)]
    public int SqliteSearchIndexBatch { get; set; } = 2000;

    /// <summary>SQLite: the longest a stored message's words wait outside the full-text index while messages keep coming.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan SqliteSearchIndexDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Largest the SQLite file may grow, in MiB (0: no cap). At the cap writes fail as on a full disk (503), which
    /// keeps a flood from filling a disk that other services share.
    /// </summary>
    [Range(0, 16 * 1024 * 1024)]
    public int SqliteMaxSizeMiB { get; set; }

    /// <summary>After a store write fails, how long readiness (/healthz/ready) reports the store failing unless a write succeeds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WriteFailureHold { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class BusOptions
{
    /// <summary>"inprocess" (default) or "redis".</summary>
    [Required, RegularExpression("^(inprocess|redis)$")]
    public string Provider { get; set; } = "inprocess";

    /// <summary>StackExchange.Redis configuration, e.g. "127.0.0.1:6379" or "redis1:6379,password=...".</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Prefix of every Redis key and channel, so several clusters can share one Redis.</summary>
    [Required, RegularExpression("^[A-Za-z0-9_.:-]{1,64}$")]
    public string RedisPrefix { get; set; } = "natter";

    /// <summary>How long Redis may take to answer at start before the server refuses to start.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RedisConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Users of a node that died (no heartbeat) are offline everywhere within this time.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(15);
}

public sealed class LimitOptions
{
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    [Range(1, 1_000_000)]
    public int MaxTextCodePoints { get; set; } = 4000;

    /// <summary>Sustained sends per second per user (socket and HTTP together).</summary>
    [Range(1, 10_000_000)]
    public int SendsPerSecond { get; set; } = 50;

    [Range(1, 10_000_000)]
    public int SendBurst { get; set; } = 100;

    /// <summary>Typing and read frames per second per user; more are answered rate_limited.</summary>
    [Range(1, 10_000_000)]
    public int EventsPerSecond { get; set; } = 20;

    /// <summary>Bad frames within a minute before the socket is closed with 1008.</summary>
    [Range(1, 1_000_000)]
    public int BadFramesPerMinute { get; set; } = 20;

    /// <summary>Messages waiting for one socket before it is closed with 1013.</summary>
    [Range(16, 10_000_000)]
    public int OutboundQueueMessages { get; set; } = 8192;

    /// <summary>
    /// Bytes of control frames (acks, pongs, errors, sync requests) waiting for one socket. At the bound the server
    /// stops reading that socket until its writer has sent half of them (see WebSocket:BackpressureTimeout).
    /// </summary>
    [Range(4096, 64 * 1024 * 1024)]
    public int OutboundControlBytes { get; set; } = 256 * 1024;

    /// <summary>Ping frames per second per socket (burst twice that); more are answered rate_limited.</summary>
    [Range(1, 10_000_000)]
    public int PingsPerSecond { get; set; } = 5;

    /// <summary>Accepted messages waiting for the store; a full queue slows senders down.</summary>
    [Range(16, 10_000_000)]
    public int IngestQueueCapacity { get; set; } = 20_000;

    /// <summary>Most messages committed in one transaction.</summary>
    [Range(1, 100_000)]
    public int MaxCommitBatch { get; set; } = 2000;

    /// <summary>
    /// Shortest time between two group commits while messages keep coming (an idle server commits at once). 5 ms:
    /// at W1's 2,500 sends/s it cut server CPU per delivery by a fifth against 2 ms (fewer, larger commits) for about
    /// 3 ms more median latency under load (bench/README.md, "Issue 13, session 11").
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Rooms whose state one node keeps in memory (membership cache, the fan-out's and the Redis bus's last seq per
    /// room). Past it, rooms no local socket needs are forgotten and reloaded from the store when they are used again.
    /// </summary>
    [Range(100, 10_000_000)]
    public int TrackedRooms { get; set; } = 100_000;

    [Range(1, 100_000)]
    public int MaxHttpBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Group rooms one user may create within an hour (per node); more get 429 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int RoomCreationsPerHour { get; set; } = 60;

    /// <summary>Registrations from one client address within an hour (per node); more get 429 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int RegistrationsPerAddressPerHour { get; set; } = 50;

    /// <summary>Open sockets of one user on one node; more upgrades get 429.</summary>
    [Range(1, 1_000_000)]
    public int SocketsPerUser { get; set; } = 50;

    /// <summary>Open sockets from one client address on one node; more upgrades get 429.</summary>
    [Range(1, 10_000_000)]
    public int SocketsPerAddress { get; set; } = 2000;

    /// <summary>Distinct reaction emoji one message may carry; a new one past it is refused with "limit" (protocol v2: 20).</summary>
    [Range(1, 1000)]
    public int MaxReactionEmoji { get; set; } = 20;

    /// <summary>Members one group room may have; a join or invitation past it is refused with "limit" (HTTP 409).</summary>
    [Range(2, 10_000_000)]
    public int MaxRoomMembers { get; set; } = 10_000;

    /// <summary>Longest room topic, in code points after trimming (an empty topic is allowed).</summary>
    [Range(1, 1024)]
    public int MaxTopicCodePoints { get; set; } = 500;

    /// <summary>
    /// How long the membership change log keeps a change: a node cut off from the bus longer than this misses the
    /// older changes when it replays the log (its sockets recover on reconnect).
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan RoomChangeRetention { get; set; } = TimeSpan.FromDays(7);

    // Search.

    /// <summary>Searches (GET /api/search) one user may run within a minute (per node); more get 429 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int SearchesPerMinute { get; set; } = 60;
}

public sealed class SocketOptions
{
    /// <summary>Origins allowed to open /ws besides the server's own. "*" allows any.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a new socket's live messages wait for its first frame.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan FirstFrameHold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a socket may stay unread because its control queue is full before it is closed with 1013.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan BackpressureTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a closing socket may take before it is aborted.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long shutdown waits for accepted messages to be stored and acked.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A plain HTTP/1.1 upgrade to /ws that is a connection's first request is answered on the connection itself,
    /// without Kestrel's HTTP objects (Entry/Direct/DirectUpgrade): about half the memory of an idle socket. Off,
    /// every upgrade goes through the request pipeline.
    /// </summary>
    public bool DirectUpgrade { get; set; } = true;

    // The socket transport's threads.

    /// <summary>
    /// Kestrel's socket transport runs each connection's application side inline (its UnsafePreferInlineScheduling):
    /// a socket writer's flush makes the send on the writer's own thread (the fan-out's, for live messages) and a
    /// received frame is handled on the thread that read it, instead of a thread-pool hop for each. The fan-out's
    /// thread then makes every live send itself. Applies to every connection of the server (HTTP too). Off by default:
    /// measured on a quiet machine it saved about 3% CPU per W1 delivery (within noise) and cost about 3-4 KiB more
    /// per idle socket (bench/README.md, "Issue 13, session 11").
    /// </summary>
    public bool InlineTransport { get; set; }
}

public sealed class AuthOptions
{
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often expired sessions are deleted (and their sockets, on every node, closed with 4001).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SessionSweepInterval { get; set; } = TimeSpan.FromHours(1);

    [Range(1, 1_000_000)]
    public int LoginFailuresPerUser { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int LoginFailuresPerAddress { get; set; } = 100;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Argon2id passes (libsodium opslimit).</summary>
    [Range(1, 100)]
    public int Argon2Iterations { get; set; } = 2;

    /// <summary>Argon2id memory in KiB.</summary>
    [Range(8 * 1024, 4 * 1024 * 1024)]
    public int Argon2MemoryKiB { get; set; } = 19 * 1024;

    public string CookieName { get; set; } = "natter_session";

    /// <summary>A session's last_seen (GET /api/me/sessions) is written at most this often per session and node.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SessionLastSeenInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How much of a login's User-Agent header is kept for the session list.</summary>
    [Range(16, 4096)]
    public int UserAgentMaxChars { get; set; } = 256;

    /// <summary>Users one user may block; past it PUT /api/me/blocks/{username} gets 409 `limit`.</summary>
    [Range(1, 1_000_000)]
    public int MaxBlocks { get; set; } = 1000;

    /// <summary>Users one admin search (GET /api/admin/users) returns at most.</summary>
    [Range(1, 10_000)]
    public int UserSearchMax { get; set; } = 50;

    /// <summary>How long a device cookie (set on a successful login) lets that browser log in while its username is throttled.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan DeviceCookieLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Base64 of at least 32 random bytes signing device cookies; the same on every node. Unset: random per process.</summary>
    public string? DeviceCookieKey { get; set; }

    /// <summary>Password hashes (register, login) computed at once; each takes a core and Argon2MemoryKiB of memory.</summary>
    [Range(1, 1024)]
    public int PasswordHashConcurrency { get; set; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Logins and registrations that may wait for a hashing slot; more get 503 with Retry-After.</summary>
    [Range(0, 100_000)]
    public int PasswordHashQueue { get; set; } = 64;
}

public sealed class MetricsOptions
{
    /// <summary>
    /// A management address (http://127.0.0.1:9464) the server also listens on, serving /metrics and /healthz only;
    /// the chat port then serves no /metrics. Unset: no management address.
    /// </summary>
    [RegularExpression(@"^https?://[^/\s]+:[0-9]{1,5}/?$")]
    public string? Url { get; set; }

    /// <summary>A bearer token /metrics requires (on whichever port serves it). At least 16 characters.</summary>
    [MinLength(16)]
    public string? Token { get; set; }
}

public sealed class NetworkOptions
{
    /// <summary>
    /// Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed. Empty (the default):
    /// forwarded headers are ignored, so no client can make up its address.
    /// </summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. 10.0.0.0/8) of such proxies.</summary>
    public string[] KnownNetworks { get; set; } = [];
}

[OptionsValidator]
public sealed partial class NatterOptionsValidator : IValidateOptions<NatterOptions>
{
}
