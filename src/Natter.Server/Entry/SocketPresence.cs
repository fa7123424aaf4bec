using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Entry;

/// <summary>
/// A user's first socket opening and last socket closing (cluster-wide) become presence events for their roommates;
/// a change only this node could see (the cluster's presence was unreachable) is told to this node's sockets only.
/// </summary>
public sealed class SocketPresence(IPresence presence, IMessageBus bus, IChatStore store, StoreHealth health, ILogger<SocketPresence> logger)
{
    public async Task OpenedAsync(Caller caller, IReadOnlyList<MyRoom> rooms, CancellationToken ct)
    {
        if (await presence.SocketOpenedAsync(caller.UserId, caller.Username, ct) is { } change)
        {
            await bus.PublishAsync(new PresenceEvent(caller.UserId, caller.Username, true, rooms.Select(r => r.Id).ToArray(), change.Version),
                change.ThisNodeOnly ? LocalEnvelope.ThisNode : null, ct);
        }
    }

    /// <summary>
    /// Never throws: a socket's end must not fail because presence could not be told. The user's rooms come from the
    /// store; when it cannot be read, the rooms the socket's welcome listed stand in.
    /// </summary>
    public async Task ClosedAsync(Caller caller, IReadOnlyList<MyRoom> welcomeRooms)
    {
        try
        {
            if (await presence.SocketClosedAsync(caller.UserId, caller.Username, CancellationToken.None) is { } change)
            {
                IReadOnlyList<MyRoom> rooms;
                try
                {
                    rooms = await store.ListRoomsOfUserAsync(caller.UserId, CancellationToken.None);
                }
                catch (Exception e) when (StoreFaults.Is(e))
                {
                    health.Failed("presence", e);
                    rooms = welcomeRooms;
                }

                await bus.PublishAsync(new PresenceEvent(caller.UserId, caller.Username, false, rooms.Select(r => r.Id).ToArray(), change.Version),
                    change.ThisNodeOnly ? LocalEnvelope.ThisNode : null, CancellationToken.None);
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
