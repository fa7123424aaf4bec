using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Entry;

/// <summary>A user's first socket opening and last socket closing (cluster-wide) become presence events for their roommates.</summary>
public sealed class SocketPresence(IPresence presence, IMessageBus bus, IChatStore store, ILogger<SocketPresence> logger)
{
    public async Task OpenedAsync(Caller caller, IReadOnlyList<MyRoom> rooms, CancellationToken ct)
    {
        if (await presence.SocketOpenedAsync(caller.UserId, caller.Username, ct))
        {
            await bus.PublishAsync(new PresenceEvent(caller.UserId, caller.Username, true, rooms.Select(r => r.Id).ToArray()), ct);
        }
    }

    /// <summary>Never throws: a socket's end must not fail because presence could not be told.</summary>
    public async Task ClosedAsync(Caller caller)
    {
        try
        {
            if (await presence.SocketClosedAsync(caller.UserId, caller.Username, CancellationToken.None))
            {
                var rooms = await store.ListRoomsOfUserAsync(caller.UserId, CancellationToken.None);
                await bus.PublishAsync(new PresenceEvent(caller.UserId, caller.Username, false, rooms.Select(r => r.Id).ToArray()), CancellationToken.None);
            }
        }
        catch (StoreUnavailableException)
        {
            // Presence of a user whose rooms cannot be read is told when the store is back (the next socket).
        }
        catch (Exception e)
        {
            Log.SocketFailed(logger, "presence", e);
        }
    }
}
