using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>How delivery reads a room's log (sync and gap filling): the store implements it, unit tests fake it.</summary>
public interface IRoomLogReader
{
    /// <summary>Stored messages with seq in (afterSeq, beforeSeq), oldest first, at most limit.</summary>
    ValueTask<IReadOnlyList<StoredMessage>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct);
}

public sealed class StoreRoomLogReader(IChatStore store) : IRoomLogReader
{
    public async ValueTask<IReadOnlyList<StoredMessage>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct) =>
        await store.ReadMessagesAsync(room, afterSeq, beforeSeq, limit, oldestFirst: true, ct);
}
