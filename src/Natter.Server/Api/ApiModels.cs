using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Natter.Server.Api;

public sealed record UserDto(string Username);
public sealed record LoginResponse(string Token, string Username);
public sealed record UserStatusDto(string Username, bool Online);
/// <summary>The room object (protocol v2 §4 adds topic, visibility, members as a count and the caller's role).</summary>
public sealed record RoomDto(string Id, string Name, string Kind, long LastSeq, long ReadSeq, int MentionCount,
    string Topic, string Visibility, int Members, string Role);

/// <summary>A member of a room as GET /api/rooms/{id}/members lists them.</summary>
public sealed record MemberDto(string Username, string DisplayName, string? AvatarUrl, string Role, bool Online);
public sealed record RoomRefDto(string Id, string Name, string Kind);
public sealed record PublicRoomDto(string Id, string Name, int Members);

/// <summary>
/// A message in its current state (history, and the answer to an HTTP send): v1's fields plus reply_to, mentions,
/// files (file objects, protocol v2 §3), edited_ts (null if never edited), deleted and reactions in first-use order.
/// </summary>
public sealed record MessageDto(string Room, long Seq, string From, string Text, long Ts, string ClientId,
    long? ReplyTo, string[] Mentions, FileDto[] Files, long? EditedTs, bool Deleted, ReactionDto[] Reactions);

/// <summary>The file object of protocol v2 §3: thumb_url only for images (png, jpeg, gif, webp by their bytes).</summary>
public sealed record FileDto(string Id, string Name, long Size, string ContentType, string Url,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ThumbUrl);

public sealed record ReactionDto(string Emoji, string[] Users);

/// <summary>The answer to a reaction change that changed nothing: {"seq": null}.</summary>
public sealed record NoChangeDto(long? Seq);

public sealed record ConfigDto(
    int MaxText, int SendsPerSecond, int SendBurst, int EventsPerSecond, string UsernamePattern,
    int UsernameMin, int UsernameMax, int PasswordMin, int PasswordMax, int RoomNameMax, long MaxUploadBytes = 0);

/// <summary>HTTP JSON in protocol v1's snake_case, source-generated.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(UserStatusDto[]))]
[JsonSerializable(typeof(RoomDto[]))]
[JsonSerializable(typeof(RoomDto))]
[JsonSerializable(typeof(MemberDto[]))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(RoomRefDto))]
[JsonSerializable(typeof(PublicRoomDto[]))]
[JsonSerializable(typeof(MessageDto))]
[JsonSerializable(typeof(MessageDto[]))]
[JsonSerializable(typeof(NoChangeDto))]
[JsonSerializable(typeof(FileDto))]
[JsonSerializable(typeof(SearchPageDto))]
[JsonSerializable(typeof(ConfigDto))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
