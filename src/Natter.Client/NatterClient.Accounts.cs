using System.Text.Json.Serialization;

namespace Natter.Client;

/// <summary>Accounts of protocol v2 §5: profile, password, sessions, blocks, and the admin calls.</summary>
public sealed partial class NatterClient
{
    /// <summary>GET /api/me: the caller's user object and whether they are a server admin.</summary>
    public async Task<MyProfile> GetProfileAsync(CancellationToken cancellationToken = default)
    {
        var me = await CallAsync(HttpMethod.Get, "api/me", null, AccountsJsonContext.Default.UserObjectDto, cancellationToken).ConfigureAwait(false);
        Username = me.Username;
        return new MyProfile(me.Username, me.DisplayName ?? me.Username, me.AvatarUrl, me.Admin);
    }

    /// <summary>PATCH /api/me {display_name}: the user object after the change.</summary>
    public Task<UserProfile> SetDisplayNameAsync(string displayName, CancellationToken cancellationToken = default) =>
        PatchMeAsync(new ProfileBody { DisplayName = displayName }, cancellationToken);

    /// <summary>PATCH /api/me {avatar}: an uploaded image's file id, or null to remove the avatar.</summary>
    public Task<UserProfile> SetAvatarAsync(string? fileId, CancellationToken cancellationToken = default) =>
        PatchMeAsync(new AvatarBody { Avatar = fileId }, cancellationToken);

    private async Task<UserProfile> PatchMeAsync<T>(T body, CancellationToken cancellationToken)
    {
        var type = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)AccountsJsonContext.Default.GetTypeInfo(typeof(T))!;
        var dto = await CallAsync(HttpMethod.Patch, "api/me", Json(body, type), AccountsJsonContext.Default.UserObjectDto, cancellationToken).ConfigureAwait(false);
        return ToProfile(dto);
    }

    /// <summary>
    /// POST /api/me/password: every other session is signed out (their sockets close with 4001); this one goes on.
    /// A wrong current password throws <see cref="NatterHttpException"/> with 403. Saved credentials (for
    /// re-login on reconnect) take the new password.
    /// </summary>
    public async Task ChangePasswordAsync(string currentPassword, string newPassword, CancellationToken cancellationToken = default)
    {
        using var response = await SendHttpAsync(HttpMethod.Post, "api/me/password",
            Json(new PasswordBody { Current = currentPassword, New = newPassword }, AccountsJsonContext.Default.PasswordBody), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        if (_credentials is { } c)
        {
            _credentials = new Credentials { Username = c.Username, Password = newPassword };
        }
    }

    /// <summary>GET /api/me/sessions: the caller's sessions, newest first.</summary>
    public async Task<IReadOnlyList<SessionSummary>> GetSessionsAsync(CancellationToken cancellationToken = default)
    {
        var list = await CallAsync(HttpMethod.Get, "api/me/sessions", null, AccountsJsonContext.Default.ListSessionDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(s => new SessionSummary(s.Id, DateTimeOffset.FromUnixTimeMilliseconds(s.Created),
            DateTimeOffset.FromUnixTimeMilliseconds(s.LastSeen), s.UserAgent, s.Current))];
    }

    /// <summary>DELETE /api/me/sessions/{id}: signs that session out ("log out this device").</summary>
    public Task RevokeSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Delete, $"api/me/sessions/{Uri.EscapeDataString(sessionId)}", cancellationToken);

    /// <summary>GET /api/users: active users with their profile and whether they are online.</summary>
    public async Task<IReadOnlyList<UserSummary>> GetUsersAsync(bool onlineOnly = false, CancellationToken cancellationToken = default)
    {
        var list = await CallAsync(HttpMethod.Get, onlineOnly ? "api/users?online=true" : "api/users", null,
            AccountsJsonContext.Default.ListUserObjectDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(u => new UserSummary(ToProfile(u), u.Online))];
    }

    /// <summary>PUT /api/me/blocks/{username}: that user's direct messages to the caller are refused from now on.</summary>
    public Task BlockAsync(string username, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Put, $"api/me/blocks/{Uri.EscapeDataString(username)}", cancellationToken);

    public Task UnblockAsync(string username, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Delete, $"api/me/blocks/{Uri.EscapeDataString(username)}", cancellationToken);

    /// <summary>GET /api/me/blocks: the usernames the caller blocks.</summary>
    public async Task<IReadOnlyList<string>> GetBlockedAsync(CancellationToken cancellationToken = default) =>
        await CallAsync(HttpMethod.Get, "api/me/blocks", null, AccountsJsonContext.Default.ListString, cancellationToken).ConfigureAwait(false);

    /// <summary>Admins only: GET /api/admin/users?q= — users of any status whose username or display name contains the query.</summary>
    public async Task<IReadOnlyList<AdminUserInfo>> FindUsersAsync(string? query = null, CancellationToken cancellationToken = default)
    {
        var path = string.IsNullOrEmpty(query) ? "api/admin/users" : "api/admin/users?q=" + Uri.EscapeDataString(query);
        var list = await CallAsync(HttpMethod.Get, path, null, AccountsJsonContext.Default.ListUserObjectDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(ToAdminInfo)];
    }

    /// <summary>
    /// Admins only: PATCH /api/users/{username} {status}. Disabling signs the account out everywhere (its sockets close
    /// with 4003) and refuses its logins with 403 until it is enabled again.
    /// </summary>
    public async Task<AdminUserInfo> SetUserDisabledAsync(string username, bool disabled, CancellationToken cancellationToken = default)
    {
        var dto = await CallAsync(HttpMethod.Patch, $"api/users/{Uri.EscapeDataString(username)}",
            Json(new StatusBody { Status = disabled ? "disabled" : "active" }, AccountsJsonContext.Default.StatusBody),
            AccountsJsonContext.Default.UserObjectDto, cancellationToken).ConfigureAwait(false);
        return ToAdminInfo(dto);
    }

    private async Task NoContentAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var response = await SendHttpAsync(method, path, null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static UserProfile ToProfile(UserObjectDto u) => new(u.Username, u.DisplayName ?? u.Username, u.AvatarUrl);

    private static AdminUserInfo ToAdminInfo(UserObjectDto u) =>
        new(ToProfile(u), string.Equals(u.Status, "disabled", StringComparison.Ordinal), u.Admin, u.Online);
}

/// <summary>A user as others see them (protocol v2 §5): the display name is the username until the user sets one.</summary>
public sealed record UserProfile(string Username, string DisplayName, string? AvatarUrl);

/// <summary>The caller's own user object, and whether they are a server admin.</summary>
public sealed record MyProfile(string Username, string DisplayName, string? AvatarUrl, bool Admin);

/// <summary>A user in GET /api/users.</summary>
public sealed record UserSummary(UserProfile Profile, bool Online);

/// <summary>One of the caller's sessions; <see cref="Id"/> names it for <see cref="NatterClient.RevokeSessionAsync"/> (it is not the token).</summary>
public sealed record SessionSummary(string Id, DateTimeOffset Created, DateTimeOffset LastSeen, string? UserAgent, bool Current);

/// <summary>A user as the admin search shows them.</summary>
public sealed record AdminUserInfo(UserProfile Profile, bool Disabled, bool Admin, bool Online);

internal sealed class UserObjectDto
{
    public string Username { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? AvatarUrl { get; set; }
    public bool Admin { get; set; }
    public bool Online { get; set; }
    public string? Status { get; set; }
}

internal sealed class SessionDto
{
    public string Id { get; set; } = "";
    public long Created { get; set; }
    public long LastSeen { get; set; }
    public string? UserAgent { get; set; }
    public bool Current { get; set; }
}

internal sealed class ProfileBody
{
    public string? DisplayName { get; set; }
}

internal sealed class AvatarBody
{
    /// <summary>Written even when null: null removes the avatar.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Avatar { get; set; }
}

internal sealed class PasswordBody
{
    public string Current { get; set; } = "";
    public string New { get; set; } = "";
}

internal sealed class StatusBody
{
    public string Status { get; set; } = "";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(UserObjectDto))]
[JsonSerializable(typeof(List<UserObjectDto>))]
[JsonSerializable(typeof(List<SessionDto>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(ProfileBody))]
[JsonSerializable(typeof(AvatarBody))]
[JsonSerializable(typeof(PasswordBody))]
[JsonSerializable(typeof(StatusBody))]
internal sealed partial class AccountsJsonContext : JsonSerializerContext;
