using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>How delivery reads a room's log (sync and gap filling): the store implements it, unit tests fake it.</summary>
public interface IRoomLogReader
{
    /// <summary>Log entries of every kind with seq in (afterSeq, beforeSeq), oldest first, at most limit.</summary>
    ValueTask<IReadOnlyList<StoredEvent>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct);
}

/// <summary>The room log in the store; its failures and successes go to <see cref="StoreHealth"/>, which logs an outage once.</summary>
public sealed class StoreRoomLogReader(IChatStore store, StoreHealth health) : IRoomLogReader
{
    public async ValueTask<IReadOnlyList<StoredEvent>> ReadAsync(string room, long afterSeq, long beforeSeq, int limit, CancellationToken ct)
    {
        try
        {
            var page = await store.ReadEventsAsync(room, afterSeq, beforeSeq, limit, oldestFirst: true, ct);
            health.Succeeded();
            return page;
        }
        catch (Exception e) when (StoreFaults.Is(e))
        {
            health.Failed("read", e);
            throw;
        }
    }
}
