using System.Text.Json;
using System.Text.Json.Serialization;
using Natter.Server.Storage;

namespace Natter.Server.Bus.Redis;

/// <summary>
/// One bus event on the wire between nodes: exactly one of the event fields is set. Node is the sender (a node
/// skips its own events, which it delivered locally already); SentAt (Unix ms) measures the bus lag.
/// </summary>
public sealed class BusEnvelope
{
    public string Node { get; set; } = "";
    public long SentAt { get; set; }
    public EventsStored? Stored { get; set; }
    public TypingEvent? Typing { get; set; }
    public ReadEvent? Read { get; set; }
    public MemberEvent? Member { get; set; }
    public DirectRoomEvent? Direct { get; set; }
    public PresenceEvent? Presence { get; set; }
    public SessionRevoked? Revoked { get; set; }
    public SessionsExpired? Expired { get; set; }
    public UserSessionsRevoked? UserRevoked { get; set; }
    public RoomUpdated? RoomUpdated { get; set; }
    public RoomDeleted? RoomDeleted { get; set; }

    /// <summary>
    /// Whether a payload was published by this node, read from its first property ("node", written first) without
    /// parsing the rest: a node hears its own publishes and drops them, and a batch of stored events is the largest
    /// payload there is. False when the payload does not start that way (it is then parsed in full).
    /// </summary>
    public static bool IsFrom(ReadOnlySpan<byte> payload, string node)
    {
        var reader = new Utf8JsonReader(payload);
        return reader.Read() && reader.TokenType == JsonTokenType.StartObject
            && reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("node"u8)
            && reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(node);
    }

    public static BusEnvelope Wrap(string node, long sentAt, BusEvent evt)
    {
        var e = new BusEnvelope { Node = node, SentAt = sentAt };
        switch (evt)
        {
            case EventsStored x: e.Stored = x; break;
            case TypingEvent x: e.Typing = x; break;
            case ReadEvent x: e.Read = x; break;
            case MemberEvent x: e.Member = x; break;
            case DirectRoomEvent x: e.Direct = x; break;
            case PresenceEvent x: e.Presence = x; break;
            case SessionRevoked x: e.Revoked = x; break;
            case SessionsExpired x: e.Expired = x; break;
            case UserSessionsRevoked x: e.UserRevoked = x; break;
            case RoomUpdated x: e.RoomUpdated = x; break;
            case RoomDeleted x: e.RoomDeleted = x; break;
            default: throw new NotSupportedException($"Bus event {evt.GetType().Name} has no wire form.");
        }

        return e;
    }

    public BusEvent? Unwrap() =>
        (BusEvent?)Stored ?? (BusEvent?)Typing ?? (BusEvent?)Read ?? (BusEvent?)Member ?? (BusEvent?)Direct
        ?? (BusEvent?)Presence ?? (BusEvent?)Revoked ?? (BusEvent?)Expired ?? (BusEvent?)RoomUpdated ?? (BusEvent?)RoomDeleted
        ?? UserRevoked;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(BusEnvelope))]
[JsonSerializable(typeof(StoredEvent))]
internal sealed partial class BusJsonContext : JsonSerializerContext
{
}

/// <summary>A bus event as text, for the membership change log (the same form the Redis bus sends).</summary>
public static class BusWire
{
    public static string Encode(BusEvent evt) =>
        JsonSerializer.Serialize(BusEnvelope.Wrap("", 0, evt), BusJsonContext.Default.BusEnvelope);

    /// <summary>Null when the text is not a bus event this version knows.</summary>
    public static BusEvent? Decode(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, BusJsonContext.Default.BusEnvelope)?.Unwrap();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
