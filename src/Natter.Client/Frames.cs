using System.Text.Json.Serialization;

namespace Natter.Client;

// Wire shapes. The client owns its copies so it has no dependency on the server's assemblies;
// protocol.md is the contract both follow.

internal sealed class ServerFrame
{
    public string? Type { get; set; }
    public string? Ref { get; set; }
    public string? Room { get; set; }
    public long Seq { get; set; }
    public long Ts { get; set; }
    public string? ClientId { get; set; }
    public string? From { get; set; }
    public string? Text { get; set; }
    public string? Username { get; set; }
    public bool Online { get; set; }
    public string? Event { get; set; }
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Kind { get; set; }
    public string? Code { get; set; }
    public string? Message { get; set; }
    public List<RoomDto>? Rooms { get; set; }
}

internal sealed class RoomDto
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public long LastSeq { get; set; }
    public long ReadSeq { get; set; }
    public long Members { get; set; }
}

internal sealed class SendFrame
{
    public string Type { get; set; } = "send";
    public string? Ref { get; set; }
    public string? Room { get; set; }
    public string? To { get; set; }
    public string Text { get; set; } = "";
    public string ClientId { get; set; } = "";
}

internal sealed class SyncFrame
{
    public string Type { get; set; } = "sync";
    public string? Ref { get; set; }
    public Dictionary<string, long> Rooms { get; set; } = [];
}

internal sealed class SimpleFrame
{
    public string Type { get; set; } = "";
    public string? Ref { get; set; }
    public string? Room { get; set; }
    public long? Seq { get; set; }
}

internal sealed class Credentials
{
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
}

internal sealed class LoginResponse
{
    public string Token { get; set; } = "";
    public string Username { get; set; } = "";
}

internal sealed class NameBody
{
    public string Name { get; set; } = "";
}

internal sealed class UsernameBody
{
    public string Username { get; set; } = "";
}

internal sealed class PostMessageBody
{
    public string Text { get; set; } = "";
    public string ClientId { get; set; } = "";
}

internal sealed class MessageDto
{
    public string Room { get; set; } = "";
    public long Seq { get; set; }
    public string From { get; set; } = "";
    public string Text { get; set; } = "";
    public long Ts { get; set; }
    public string? ClientId { get; set; }
}

internal sealed class ProblemDto
{
    public string? Title { get; set; }
    public string? Detail { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(ServerFrame))]
[JsonSerializable(typeof(SendFrame))]
[JsonSerializable(typeof(SyncFrame))]
[JsonSerializable(typeof(SimpleFrame))]
[JsonSerializable(typeof(Credentials))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(NameBody))]
[JsonSerializable(typeof(UsernameBody))]
[JsonSerializable(typeof(PostMessageBody))]
[JsonSerializable(typeof(MessageDto))]
[JsonSerializable(typeof(List<MessageDto>))]
[JsonSerializable(typeof(RoomDto))]
[JsonSerializable(typeof(List<RoomDto>))]
[JsonSerializable(typeof(ProblemDto))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
