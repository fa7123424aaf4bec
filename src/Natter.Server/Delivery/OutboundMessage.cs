using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>A stored message with its "message" frame, serialized once and shared by every socket it goes to.</summary>
public sealed class OutboundMessage(StoredMessage message)
{
    public StoredMessage Message { get; } = message;

    public byte[] Frame { get; } = Frames.Message(message);
}
