using Natter.Server.Api;
using Natter.Server.Storage;

namespace Natter.Server.Accounts;

/// <summary>The user object of protocol v2 §5 from a stored profile.</summary>
public static class Profiles
{
    /// <summary>Where an avatar is read: the file's download address (readable by any signed-in user).</summary>
    public static string? AvatarUrl(string? fileId) => ProfileDto.AvatarUrlOf(fileId);

    public static ProfileDto ToDto(Profile p) => new(p.Username, p.DisplayName, AvatarUrl(p.AvatarFile));

    /// <summary>A user who was never given a display name (just registered).</summary>
    public static ProfileDto New(string username) => new(username, username, null);
}
