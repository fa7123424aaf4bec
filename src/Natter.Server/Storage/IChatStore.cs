namespace Natter.Server.Storage;

/// <summary>
/// Everything Natter keeps. Implementations: Sqlite (embedded default) and MySql (cluster).
/// Each room has one log: messages, edits, deletions and reaction changes, numbered by one gapless seq that
/// <see cref="AppendAsync"/> assigns inside its transaction, where it also updates each message's current state.
/// </summary>
public interface IChatStore : ISearchStore, IFileStore, IRoomAdminStore, IAccountStore
{
    /// <summary>Creates or migrates the schema; logs progress.</summary>
    Task InitializeAsync(CancellationToken ct);

    /// <summary>True when the store answers a trivial query.</summary>
    Task<bool> PingAsync(CancellationToken ct);

    // Accounts
    /// <summary>Returns the new user's id, or null when the username is taken.</summary>
    Task<long?> CreateUserAsync(string username, string passwordHash, CancellationToken ct);
    Task<User?> FindUserAsync(string username, CancellationToken ct);
    Task<IReadOnlyList<string>> ListUsernamesAsync(int limit, CancellationToken ct);

    /// <summary>The users with these (lower-case) usernames; unknown names are left out.</summary>
    Task<IReadOnlyList<RoomMember>> FindUsersAsync(IReadOnlyCollection<string> usernames, CancellationToken ct);
    Task<long> CreateSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, CancellationToken ct);
    Task<Session?> FindSessionAsync(byte[] tokenHash, DateTimeOffset now, CancellationToken ct);
    Task DeleteSessionAsync(long sessionId, CancellationToken ct);

    /// <summary>Deletes sessions that expired before now; returns their ids.</summary>
    Task<IReadOnlyList<long>> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct);

    // Rooms
    Task<Room> CreateRoomAsync(string name, long creatorId, CancellationToken ct);
    Task<Room?> FindRoomAsync(string roomId, CancellationToken ct);
    Task<IReadOnlyList<RoomMember>> ListMembersAsync(string roomId, CancellationToken ct);
    Task<IReadOnlyList<MyRoom>> ListRoomsOfUserAsync(long userId, CancellationToken ct);
    Task<IReadOnlyList<PublicRoom>> ListPublicRoomsAsync(int limit, CancellationToken ct);
    Task<JoinOutcome> JoinAsync(string roomId, long userId, CancellationToken ct);
    /// <summary>False when the room does not exist.</summary>
    Task<bool> LeaveAsync(string roomId, long userId, CancellationToken ct);
    Task<DirectRoomResult> GetOrCreateDirectRoomAsync(long userA, long userB, CancellationToken ct);
    Task<long> GetLastSeqAsync(string roomId, CancellationToken ct);

    // The room log
    /// <summary>
    /// Stores a batch of events in one transaction (group commit), in order: each stored event takes its room's next
    /// seq, and the state of the message it concerns changes in the same transaction. Results are in input order.
    /// An event whose (room, sender, client_id) is already stored, or stored earlier in the batch, is a Duplicate
    /// (whatever its kind). Edits, deletions, reactions and replies are checked against the state at that point of
    /// the batch (<see cref="RoomLogRules"/>): a refused one stores nothing and takes no seq.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct);

    /// <summary>
    /// Like <see cref="AppendAsync"/>, but a room that another writer holds locked right now is not waited for: its
    /// events are left out (nothing of them stored) and come back <see cref="AppendOutcome.Busy"/>. A store with a
    /// single writer never has a busy room.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendSkippingBusyRoomsAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct) => AppendAsync(batch, ct);

    /// <summary>
    /// Log entries of every kind with seq in (afterSeq, beforeSeq), ascending; at most limit, the oldest when
    /// oldestFirst, else the newest. A deleted message and its edits come with their text and mentions gone.
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct);

    /// <summary>Messages only, each in its current state, with seq in (afterSeq, beforeSeq), ascending; at most limit, the oldest when oldestFirst, else the newest.</summary>
    Task<IReadOnlyList<MessageState>> ReadMessagesAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct);

    /// <summary>Moves the read marker forward only (never past the room's last seq); the new marker, or null when it did not move.</summary>
    Task<long?> MarkReadAsync(string roomId, long userId, long seq, CancellationToken ct);
}
