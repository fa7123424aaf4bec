namespace Natter.Server.Storage;

/// <summary>
/// The store as the rest of the server sees it: failures of the store itself (<see cref="StoreWriteHealth.IsUnavailable"/>)
/// become <see cref="StoreUnavailableException"/> (503 over HTTP, never 500), and every write tells
/// <see cref="StoreWriteHealth"/> whether it worked, so readiness reports a store that refuses writes.
/// </summary>
public sealed partial class GuardedChatStore(IChatStore inner, StoreWriteHealth health) : IChatStore
{
    public Task InitializeAsync(CancellationToken ct) =>
        WriteAsync(() => inner.InitializeAsync(ct));

    public Task<bool> PingAsync(CancellationToken ct) =>
        ReadAsync(() => inner.PingAsync(ct));

    public Task<long?> CreateUserAsync(string username, string passwordHash, CancellationToken ct) =>
        WriteAsync(() => inner.CreateUserAsync(username, passwordHash, ct));

    public Task<User?> FindUserAsync(string username, CancellationToken ct) =>
        ReadAsync(() => inner.FindUserAsync(username, ct));

    public Task<IReadOnlyList<string>> ListUsernamesAsync(int limit, CancellationToken ct) =>
        ReadAsync(() => inner.ListUsernamesAsync(limit, ct));

    public Task<IReadOnlyList<RoomMember>> FindUsersAsync(IReadOnlyCollection<string> usernames, CancellationToken ct) =>
        ReadAsync(() => inner.FindUsersAsync(usernames, ct));

    public Task<long> CreateSessionAsync(long userId, byte[] tokenHash, DateTimeOffset expiresAt, CancellationToken ct) =>
        WriteAsync(() => inner.CreateSessionAsync(userId, tokenHash, expiresAt, ct));

    public Task<Session?> FindSessionAsync(byte[] tokenHash, DateTimeOffset now, CancellationToken ct) =>
        ReadAsync(() => inner.FindSessionAsync(tokenHash, now, ct));

    public Task DeleteSessionAsync(long sessionId, CancellationToken ct) =>
        WriteAsync(() => inner.DeleteSessionAsync(sessionId, ct));

    public Task<IReadOnlyList<long>> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct) =>
        WriteAsync(() => inner.DeleteExpiredSessionsAsync(now, ct));

    public Task<Room> CreateRoomAsync(string name, long creatorId, CancellationToken ct) =>
        WriteAsync(() => inner.CreateRoomAsync(name, creatorId, ct));

    public Task<Room?> FindRoomAsync(string roomId, CancellationToken ct) =>
        ReadAsync(() => inner.FindRoomAsync(roomId, ct));

    public Task<IReadOnlyList<RoomMember>> ListMembersAsync(string roomId, CancellationToken ct) =>
        ReadAsync(() => inner.ListMembersAsync(roomId, ct));

    public Task<IReadOnlyList<MyRoom>> ListRoomsOfUserAsync(long userId, CancellationToken ct) =>
        ReadAsync(() => inner.ListRoomsOfUserAsync(userId, ct));

    public Task<IReadOnlyList<PublicRoom>> ListPublicRoomsAsync(int limit, CancellationToken ct) =>
        ReadAsync(() => inner.ListPublicRoomsAsync(limit, ct));

    public Task<JoinOutcome> JoinAsync(string roomId, long userId, CancellationToken ct) =>
        WriteAsync(() => inner.JoinAsync(roomId, userId, ct));

    public Task<bool> LeaveAsync(string roomId, long userId, CancellationToken ct) =>
        WriteAsync(() => inner.LeaveAsync(roomId, userId, ct));

    public Task<DirectRoomResult> GetOrCreateDirectRoomAsync(long userA, long userB, CancellationToken ct) =>
        WriteAsync(() => inner.GetOrCreateDirectRoomAsync(userA, userB, ct));

    public Task<long> GetLastSeqAsync(string roomId, CancellationToken ct) =>
        ReadAsync(() => inner.GetLastSeqAsync(roomId, ct));

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct) =>
        WriteAsync(() => inner.AppendAsync(batch, ct));

    // Forwarded explicitly: the interface's default would call this store's AppendAsync, which waits for busy rooms.
    public Task<IReadOnlyList<AppendResult>> AppendSkippingBusyRoomsAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct) =>
        WriteAsync(() => inner.AppendSkippingBusyRoomsAsync(batch, ct));

    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct) =>
        ReadAsync(() => inner.ReadEventsAsync(roomId, afterSeq, beforeSeq, limit, oldestFirst, ct));

    public Task<IReadOnlyList<MessageState>> ReadMessagesAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct) =>
        ReadAsync(() => inner.ReadMessagesAsync(roomId, afterSeq, beforeSeq, limit, oldestFirst, ct));

    public Task<long?> MarkReadAsync(string roomId, long userId, long seq, CancellationToken ct) =>
        WriteAsync(() => inner.MarkReadAsync(roomId, userId, seq, ct));

    public Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken ct) =>
        ReadAsync(() => inner.SearchAsync(query, ct));

    private static async Task<T> ReadAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (StoreWriteHealth.IsUnavailable(e))
        {
            throw new StoreUnavailableException("The store could not read: " + e.Message, e);
        }
    }

    private async Task<T> WriteAsync<T>(Func<Task<T>> call)
    {
        try
        {
            var result = await call();
            health.WriteSucceeded();
            return result;
        }
        catch (Exception e) when (StoreWriteHealth.IsUnavailable(e))
        {
            health.WriteFailed(e);
            throw new StoreUnavailableException("The store could not write: " + e.Message, e);
        }
    }

    private Task<bool> WriteAsync(Func<Task> call) => WriteAsync(async () =>
    {
        await call();
        return true;
    });

}
