using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>How delivery reads a room's log (sync and gap filling): the store implements it, unit tests fake it.</summary>
public interface IRoomLogReader
{
    /// <summary>Log entries of every kind with seq in (afterSeq, beforeSeq), oldest first, at most limit.</summary>
    ValueTask<IReadOnlyList<StoredEvent>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct);
}

public sealed class StoreRoomLogReader(IChatStore store) : IRoomLogReader
{
    public async ValueTask<IReadOnlyList<StoredEvent>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct) =>
        await store.ReadEventsAsync(room, afterSeq, beforeSeq, limit, oldestFirst: true, ct);
}
