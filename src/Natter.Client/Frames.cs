using System.Text.Json;
using System.Text.Json.Serialization;

namespace Natter.Client;

// Wire shapes. The client owns its copies so it has no dependency on the server's assemblies;
// protocol.md is the contract both follow.

internal sealed class ServerFrame
{
    public string? Type { get; set; }
    public string? Ref { get; set; }
    public string? Room { get; set; }
    // Null in the ack of a reaction that changed nothing.
    public long? Seq { get; set; }
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
    public long? Target { get; set; }
    public long? ReplyTo { get; set; }
    public List<string>? Mentions { get; set; }
    public bool Deleted { get; set; }
    public string? Emoji { get; set; }
    public bool On { get; set; }
    public string? Topic { get; set; }
    public string? Visibility { get; set; }
    public int? Members { get; set; }
    public string? Role { get; set; }
    public long? LastSeq { get; set; }
    public List<FileDto>? Files { get; set; }
}

internal sealed class FileDto
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public long Size { get; set; }
    public string ContentType { get; set; } = "";
    public string Url { get; set; } = "";
    public string? ThumbUrl { get; set; }
}

internal sealed class RoomDto
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public long LastSeq { get; set; }
    public long ReadSeq { get; set; }
    public long Members { get; set; }
    public int MentionCount { get; set; }
    public string Topic { get; set; } = "";
    public string Visibility { get; set; } = "public";
    public string Role { get; set; } = "member";
}

internal sealed class RoomPatchBody
{
    public string? Name { get; set; }
    public string? Topic { get; set; }
    public string? Visibility { get; set; }
}

internal sealed class CreateRoomBody
{
    public string Name { get; set; } = "";
    public string? Topic { get; set; }
    public string? Visibility { get; set; }
}

internal sealed class RoleBody
{
    public string Role { get; set; } = "";
}

internal sealed class MemberDto
{
    public string Username { get; set; } = "";
    public string? DisplayName { get; set; }
    public string Role { get; set; } = "member";
    public bool Online { get; set; }
}

internal sealed class SendFrame
{
    public string Type { get; set; } = "send";
    public string? Ref { get; set; }
    public string? Room { get; set; }
    public string? To { get; set; }
    public string Text { get; set; } = "";
    public string ClientId { get; set; } = "";
    public long? ReplyTo { get; set; }
    public List<string>? Files { get; set; }
}

/// <summary>edit, delete and react: fields a frame does not use stay null and are left out.</summary>
internal sealed class EventFrame
{
    public string Type { get; set; } = "";
    public string? Ref { get; set; }
    public string Room { get; set; } = "";
    public long Target { get; set; }
    public string? Text { get; set; }
    public string? Emoji { get; set; }
    public bool? On { get; set; }
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
    public long? ReplyTo { get; set; }
}

internal sealed class MessageDto
{
    public string Room { get; set; } = "";
    public long Seq { get; set; }
    public string From { get; set; } = "";
    public string Text { get; set; } = "";
    public long Ts { get; set; }
    public string? ClientId { get; set; }
    public long? ReplyTo { get; set; }
    public List<string>? Mentions { get; set; }
    public long? EditedTs { get; set; }
    public bool Deleted { get; set; }
    public List<ReactionDto>? Reactions { get; set; }
    public List<FileDto>? Files { get; set; }
}

internal sealed class ReactionDto
{
    public string Emoji { get; set; } = "";
    public List<string> Users { get; set; } = [];
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
[JsonSerializable(typeof(EventFrame))]
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
[JsonSerializable(typeof(FileDto))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(RoomPatchBody))]
[JsonSerializable(typeof(CreateRoomBody))]
[JsonSerializable(typeof(RoleBody))]
[JsonSerializable(typeof(List<MemberDto>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
