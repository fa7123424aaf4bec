using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>A stored room log entry with its frame, serialized once and shared by every socket it goes to.</summary>
public sealed class OutboundEvent(StoredEvent stored)
{
    public StoredEvent Event { get; } = stored;

    public byte[] Frame { get; } = Frames.Event(stored);
}
