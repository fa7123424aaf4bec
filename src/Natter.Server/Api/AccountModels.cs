using System.Text.Json.Serialization;

namespace Natter.Server.Api;

/// <summary>The user object of protocol v2 §5, wherever users appear: avatar_url is null until an avatar is set.</summary>
public sealed record ProfileDto(string Username, string DisplayName, string? AvatarUrl)
{
    /// <summary>Where an avatar is read (any signed-in user may): the file's download path; null for none.</summary>
    public static string? AvatarUrlOf(string? fileId) => fileId is null ? null : $"/api/files/{Uri.EscapeDataString(fileId)}/thumb";
}

/// <summary>GET /api/me: the user object plus whether the caller is a server admin (Natter:Admins).</summary>
public sealed record MeDto(string Username, string DisplayName, string? AvatarUrl, bool Admin);

/// <summary>GET /api/users: the user object plus v1's online.</summary>
public sealed record UserListItemDto(string Username, string DisplayName, string? AvatarUrl, bool Online);

/// <summary>One of the caller's sessions; id is not the token (it names the session's row), times in Unix ms.</summary>
public sealed record SessionDto(string Id, long Created, long LastSeen, string? UserAgent, bool Current);

/// <summary>The admin page's view of a user: the user object plus status ("active" or "disabled"), admin and online.</summary>
public sealed record AdminUserDto(string Username, string DisplayName, string? AvatarUrl, string Status, bool Admin, bool Online);

/// <summary>The accounts API's JSON in the same snake_case as <see cref="ApiJsonContext"/>, source-generated.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ProfileDto))]
[JsonSerializable(typeof(MeDto))]
[JsonSerializable(typeof(UserListItemDto[]))]
[JsonSerializable(typeof(SessionDto[]))]
[JsonSerializable(typeof(AdminUserDto))]
[JsonSerializable(typeof(AdminUserDto[]))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class AccountsJsonContext : JsonSerializerContext;
