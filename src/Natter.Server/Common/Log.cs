namespace Natter.Server.Common;

/// <summary>
/// Every log line Natter writes, with stable event ids (structured: fields, not formatted text). Text a client chose
/// (a username as typed, an Origin header) goes through <see cref="LogText.Escape"/> first, so it cannot forge lines.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Applying {Store} migration {Version} ({Description}), {Done}/{Total}")]
    public static partial void MigrationApplying(ILogger logger, string store, int version, string description, int done, int total);

    [LoggerMessage(2, LogLevel.Information, "{Store} store ready at {Location}, schema version {Version}")]
    public static partial void StoreReady(ILogger logger, string store, string location, int version);

    [LoggerMessage(3, LogLevel.Information, "Natter node {Node} started: store {Store}, bus {Bus}")]
    public static partial void Started(ILogger logger, string node, string store, string bus);

    [LoggerMessage(10, LogLevel.Information, "User {Username} registered")]
    public static partial void UserRegistered(ILogger logger, string username);

    [LoggerMessage(11, LogLevel.Information, "Login failed for {Username} from {Address}")]
    public static partial void LoginFailed(ILogger logger, string username, string address);

    [LoggerMessage(13, LogLevel.Debug, "Deleted {Count} expired sessions")]
    public static partial void SessionsSwept(ILogger logger, int count);

    [LoggerMessage(14, LogLevel.Warning, "Deleting expired sessions failed; next try at the next sweep")]
    public static partial void SessionSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "Login throttled for {Username} from {Address}, retry after {RetryAfterSeconds} s")]
    public static partial void LoginThrottled(ILogger logger, string username, string address, int retryAfterSeconds);

    [LoggerMessage(20, LogLevel.Debug, "Socket {ConnectionId} of {Username} opened")]
    public static partial void SocketOpened(ILogger logger, string connectionId, string username);

    [LoggerMessage(21, LogLevel.Debug, "Socket {ConnectionId} of {Username} closed: {Reason}")]
    public static partial void SocketClosed(ILogger logger, string connectionId, string username, string reason);

    [LoggerMessage(22, LogLevel.Warning, "Socket {ConnectionId} of {Username} fell {Queued} messages behind and is closed with 1013")]
    public static partial void SlowReaderClosed(ILogger logger, string connectionId, string username, int queued);

    [LoggerMessage(23, LogLevel.Information, "Socket {ConnectionId} of {Username} closed with {CloseCode}: {Reason}")]
    public static partial void SocketPolicyClose(ILogger logger, string connectionId, string username, int closeCode, string reason);

    [LoggerMessage(24, LogLevel.Warning, "WebSocket refused: origin {Origin} is not allowed")]
    public static partial void OriginRefused(ILogger logger, string origin);

    [LoggerMessage(15, LogLevel.Warning, "{Method} {Path} refused: sent from another origin ({Origin})")]
    public static partial void CrossOriginRefused(ILogger logger, string method, string path, string origin);

    [LoggerMessage(25, LogLevel.Error, "Socket {ConnectionId} failed")]
    public static partial void SocketFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(26, LogLevel.Warning, "Socket {ConnectionId} of {Username} closed with 1011: the store could not fill a gap ({Error}); the client reconnects and syncs")]
    public static partial void SocketStoreClose(ILogger logger, string connectionId, string username, string error);

    [LoggerMessage(27, LogLevel.Error, "Socket {ConnectionId} of {Username} closed with 1011: its writer failed")]
    public static partial void SocketWriterFailed(ILogger logger, string connectionId, string username, Exception exception);

    [LoggerMessage(28, LogLevel.Debug, "Socket {ConnectionId} of {Username}: sync answered internal, the store could not be read ({Error})")]
    public static partial void SyncFailed(ILogger logger, string connectionId, string username, string error);

    [LoggerMessage(29, LogLevel.Debug, "Socket {ConnectionId} of {Username}: {FrameType} answered internal, the store could not be reached ({Error})")]
    public static partial void FrameStoreFailed(ILogger logger, string connectionId, string username, string frameType, string error);

    [LoggerMessage(30, LogLevel.Error, "Commit of {Count} messages failed; their senders get an error")]
    public static partial void CommitFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(39, LogLevel.Warning, "The store is unavailable: {Error} ({Suppressed} more such answers since the last line)")]
    public static partial void StoreUnavailableAnswered(ILogger logger, string error, int suppressed);

    [LoggerMessage(31, LogLevel.Information, "Shutdown: draining {Queued} accepted messages")]
    public static partial void Draining(ILogger logger, int queued);

    [LoggerMessage(32, LogLevel.Information, "Shutdown: ingest drained, closing {Sockets} sockets with 1001")]
    public static partial void ClosingSockets(ILogger logger, int sockets);

    [LoggerMessage(33, LogLevel.Warning, "Shutdown: the ingest queue did not drain within {Timeout}")]
    public static partial void DrainTimedOut(ILogger logger, TimeSpan timeout);

    [LoggerMessage(40, LogLevel.Error, "Fan-out failed on {EventType}")]
    public static partial void FanoutFailed(ILogger logger, string eventType, Exception exception);

    [LoggerMessage(37, LogLevel.Warning, "SQLite checkpoint after a deletion could not finish ({Frames} WAL frames): a reader held an old snapshot past the busy timeout; the next deletion checkpoints again")]
    public static partial void CheckpointBusy(ILogger logger, long frames);

    [LoggerMessage(38, LogLevel.Warning, "SQLite checkpoint after a deletion failed ({Error}); the deletion is stored, and the next deletion checkpoints again")]
    public static partial void CheckpointFailed(ILogger logger, string error);

    [LoggerMessage(41, LogLevel.Information, "Filled a gap in room {Room}: seq {From} to {To} read from the store")]
    public static partial void GapFilled(ILogger logger, string room, long from, long to);

    [LoggerMessage(42, LogLevel.Debug, "Reading a gap in room {Room} (seq {From} to {To}) failed {Failures} times ({Error}); the room waits and the read is tried again")]
    public static partial void GapReadFailed(ILogger logger, string room, long from, long to, int failures, string error);

    [LoggerMessage(34, LogLevel.Warning, "The store is unavailable: {Operation} failed with {ErrorType} ({Error}); sends get internal until it is back, and failures are counted, not logged one by one")]
    public static partial void StoreUnavailable(ILogger logger, string operation, string errorType, string error);

    [LoggerMessage(35, LogLevel.Warning, "The store is still unavailable after {Seconds} s: {Failures} operations failed so far")]
    public static partial void StoreStillUnavailable(ILogger logger, double seconds, long failures);

    [LoggerMessage(36, LogLevel.Information, "The store is available again after {Seconds} s; {Failures} operations failed while it was away")]
    public static partial void StoreAvailable(ILogger logger, double seconds, long failures);

    // 50–69: cluster mode (MySQL store, Redis bus and presence).
    [LoggerMessage(50, LogLevel.Information, "Created MySQL database {Database} (utf8mb4)")]
    public static partial void DatabaseCreated(ILogger logger, string database);

    [LoggerMessage(51, LogLevel.Warning, "MySQL {Operation} hit {Error}; attempt {Attempt} rolled back, running it again")]
    public static partial void StoreRetry(ILogger logger, string operation, int attempt, string error);

    [LoggerMessage(52, LogLevel.Information, "Redis connected at {Endpoint}; this node is {NodeId}")]
    public static partial void RedisConnected(ILogger logger, string endpoint, string nodeId);

    [LoggerMessage(53, LogLevel.Warning, "Redis connection lost ({Endpoint}, {ConnectionType}): {Failure}; reconnecting")]
    public static partial void RedisConnectionLost(ILogger logger, string endpoint, string connectionType, string failure);

    [LoggerMessage(54, LogLevel.Information, "Redis connection restored ({Endpoint}, {ConnectionType})")]
    public static partial void RedisConnectionRestored(ILogger logger, string endpoint, string connectionType);

    [LoggerMessage(55, LogLevel.Warning, "Bus publish of {EventType} failed; other nodes fill the gap from the store")]
    public static partial void BusPublishFailed(ILogger logger, string eventType, Exception exception);

    [LoggerMessage(56, LogLevel.Warning, "Bus payload could not be read and is skipped")]
    public static partial void BusBadPayload(ILogger logger, Exception exception);

    [LoggerMessage(57, LogLevel.Information, "Bus recovery after reconnect: {Moved} of {Rooms} rooms moved while away, handed to the fan-out")]
    public static partial void BusRecovered(ILogger logger, int moved, int rooms);

    [LoggerMessage(58, LogLevel.Error, "Bus recovery after reconnect failed")]
    public static partial void BusRecoveryFailed(ILogger logger, Exception exception);

    [LoggerMessage(63, LogLevel.Warning, "Bus recovery after reconnect could not read the store ({ErrorType}: {Error}); rooms catch up on their next message")]
    public static partial void BusRecoveryStoreUnavailable(ILogger logger, string errorType, string error);

    [LoggerMessage(59, LogLevel.Warning, "Presence: Redis did not answer ({ErrorType}: {Error}); this node tells its own sockets what it sees and resyncs at the first heartbeat that gets through")]
    public static partial void PresenceRedisFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(60, LogLevel.Information, "Presence: {Users} users of nodes whose heartbeat expired went offline")]
    public static partial void PresenceSwept(ILogger logger, int users);

    [LoggerMessage(61, LogLevel.Error, "Presence heartbeat or sweep failed")]
    public static partial void PresenceSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(62, LogLevel.Information, "Presence: this node's {Users} online users rewritten to Redis; {Announced} changes announced, {Checked} users checked against what this node's sockets were told")]
    public static partial void PresenceResynced(ILogger logger, int users, int announced, int @checked);

    // 100–119: search.
    [LoggerMessage(100, LogLevel.Information, "Search index ({Store}): {Done} of {Total} existing messages indexed")]
    public static partial void SearchBackfill(ILogger logger, string store, long done, long total);
    // Files (protocol v2 §3): event ids 120-139.
    [LoggerMessage(120, LogLevel.Debug, "File uploaded by {Username}: {Size} bytes, {ContentType}")]
    public static partial void FileUploaded(ILogger logger, string username, long size, string contentType);

    [LoggerMessage(121, LogLevel.Information, "Upload by {Username} refused: over its limit of {Limit} bytes")]
    public static partial void UploadTooLarge(ILogger logger, string username, long limit);

    [LoggerMessage(122, LogLevel.Information, "Upload by {Username} refused: an image of {Width} x {Height} pixels is over the pixel limit")]
    public static partial void ImageTooLarge(ILogger logger, string username, int width, int height);

    [LoggerMessage(123, LogLevel.Warning, "No thumbnail for file {FileId} ({ErrorType}: {Error}); it is kept as a plain file")]
    public static partial void ThumbnailFailed(ILogger logger, string fileId, string errorType, string error);

    [LoggerMessage(124, LogLevel.Information, "Files swept: {Count} freed or abandoned files removed with their bytes")]
    public static partial void FilesSwept(ILogger logger, int count);

    [LoggerMessage(125, LogLevel.Warning, "File sweep failed ({ErrorType}: {Error}); it runs again later")]
    public static partial void FileSweepFailed(ILogger logger, string errorType, string error);

    // Rooms with owners (protocol v2 §4): event ids 140-159.
    [LoggerMessage(140, LogLevel.Information, "Bus: {Changes} membership changes replayed from the change log after a reconnect")]
    public static partial void BusChangesReplayed(ILogger logger, int changes);


    // Accounts (protocol v2 §5): ids 160-179.
    [LoggerMessage(160, LogLevel.Information, "User {Username} changed their password; {Revoked} other sessions revoked")]
    public static partial void PasswordChanged(ILogger logger, string username, int revoked);

    [LoggerMessage(161, LogLevel.Information, "User {Username} signed out one of their sessions ({SessionId})")]
    public static partial void SessionSignedOut(ILogger logger, string username, long sessionId);

    [LoggerMessage(162, LogLevel.Warning, "Admin {Admin} set account {Username} to {Status}; {Revoked} sessions revoked")]
    public static partial void AccountStatusChanged(ILogger logger, string admin, string username, string status, int revoked);

    [LoggerMessage(163, LogLevel.Information, "Login refused: account {Username} is disabled (from {Address})")]
    public static partial void LoginDisabled(ILogger logger, string username, string address);

    [LoggerMessage(164, LogLevel.Warning, "Wrong current password in a password change for {Username} from {Address}")]
    public static partial void PasswordChangeRefused(ILogger logger, string username, string address);

    [LoggerMessage(165, LogLevel.Debug, "A session's last_seen could not be written; the request goes on")]
    public static partial void SessionTouchFailed(ILogger logger, Exception exception);

    // Search limit, upload quota, unattached uploads: ids 210-219.
    [LoggerMessage(210, LogLevel.Information, "Search by {Username} refused: over the limit of {PerMinute} searches a minute")]
    public static partial void SearchLimited(ILogger logger, string username, int perMinute);

    [LoggerMessage(211, LogLevel.Information, "Upload by {Username} refused at completion: {Size} bytes do not fit in the quota")]
    public static partial void UploadOverQuota(ILogger logger, string username, long size);

    [LoggerMessage(212, LogLevel.Information, "Files swept: {Count} uploads never attached to a message freed")]
    public static partial void UnattachedFilesFreed(ILogger logger, int count);

    // SQLite store maintenance: ids 180-189.
    [LoggerMessage(180, LogLevel.Information, "Search rows (sqlite): {Done} of {Total} linked to their messages")]
    public static partial void SearchDocsLinked(ILogger logger, long done, long total);

    // MySQL group commit: ids 240-249.
    [LoggerMessage(240, LogLevel.Warning, "MySQL group commit: the rollback of an attempt failed ({Error}); the server ends the transaction when the connection closes")]
    public static partial void AppendRollbackFailed(ILogger logger, string error, Exception exception);

    // SQLite room log migration: ids 250-259.
    [LoggerMessage(250, LogLevel.Information, "Room log (sqlite): {Done} of {Total} rows copied into the table appended in commit order")]
    public static partial void RoomLogCopied(ILogger logger, long done, long total);

    // Search words of older messages with Chinese, Japanese or Korean text: ids 270-279.
    [LoggerMessage(270, LogLevel.Information, "Search words ({Store}): {Done} of {Total} messages checked for Chinese, Japanese or Korean text, {Reindexed} re-indexed as character pairs")]
    public static partial void SearchPairsReindexed(ILogger logger, string store, long done, long total, long reindexed);

    // Search words that wait outside the SQLite full-text index: ids 280-289.
    [LoggerMessage(280, LogLevel.Warning, "SQLite: the search words that wait could not join the index before a search ({Error}); this search may miss the newest messages, the next commit or search tries again")]
    public static partial void SearchWordsNotMoved(ILogger logger, string error);
}
