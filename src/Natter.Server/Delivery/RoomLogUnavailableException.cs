namespace Natter.Server.Delivery;

/// <summary>The room log could not be read (the store is unreachable or failed); the inner exception says why.</summary>
public sealed class RoomLogUnavailableException(Exception inner) : Exception("The room log could not be read.", inner);
