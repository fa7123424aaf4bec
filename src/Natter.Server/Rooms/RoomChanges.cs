using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Bus.Redis;
using Natter.Server.Storage;

namespace Natter.Server.Rooms;

/// <summary>
/// Publishes membership changes (joins, leaves, invitations, kicks, bans, roles, settings, deletions): each is
/// written to the store's change log first, then published with its log id. A node that was cut off from the bus
/// replays the log when it is back (Bus/Redis), so no node keeps a removed member or misses a new one.
/// The log keeps Limits.RoomChangeRetention; older changes are pruned at most once an hour.
/// </summary>
public sealed class RoomChanges(IChatStore store, IMessageBus bus, TimeProvider clock, IOptions<NatterOptions> options)
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);
    private readonly TimeSpan _retention = options.Value.Limits.RoomChangeRetention;
    private long _nextPrune;

    public async Task PublishAsync(string roomId, BusEvent evt, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var id = await store.AppendRoomChangeAsync(roomId, BusWire.Encode(evt), now.ToUnixTimeMilliseconds(), ct);
        await bus.PublishAsync(evt with { ChangeId = id }, ct);
        var next = Interlocked.Read(ref _nextPrune);
        if (now.UtcTicks >= next && Interlocked.CompareExchange(ref _nextPrune, (now + PruneEvery).UtcTicks, next) == next)
        {
            await store.PruneRoomChangesAsync((now - _retention).ToUnixTimeMilliseconds(), ct);
        }
    }
}
