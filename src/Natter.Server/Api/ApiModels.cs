using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Natter.Server.Api;

public sealed record UserDto(string Username);
public sealed record LoginResponse(string Token, string Username);
public sealed record UserStatusDto(string Username, bool Online);
public sealed record RoomDto(string Id, string Name, string Kind, long LastSeq, long ReadSeq);
public sealed record RoomRefDto(string Id, string Name, string Kind);
public sealed record PublicRoomDto(string Id, string Name, int Members);
public sealed record MessageDto(string Room, long Seq, string From, string Text, long Ts, string ClientId);
public sealed record ConfigDto(
    int MaxText, int SendsPerSecond, int SendBurst, int EventsPerSecond, string UsernamePattern,
    int UsernameMin, int UsernameMax, int PasswordMin, int PasswordMax, int RoomNameMax);

/// <summary>HTTP JSON in protocol v1's snake_case, source-generated.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(UserStatusDto[]))]
[JsonSerializable(typeof(RoomDto[]))]
[JsonSerializable(typeof(RoomRefDto))]
[JsonSerializable(typeof(PublicRoomDto[]))]
[JsonSerializable(typeof(MessageDto))]
[JsonSerializable(typeof(MessageDto[]))]
[JsonSerializable(typeof(ConfigDto))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
