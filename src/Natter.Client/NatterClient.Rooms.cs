namespace Natter.Client;

/// <summary>Rooms with owners (protocol v2 §4): settings, members, invitations, kicks, bans, roles, deleting a room.</summary>
public sealed partial class NatterClient
{
    /// <summary>
    /// Every `room` frame: "added", "updated", "removed" or "deleted". After "removed" and "deleted" the client stops
    /// syncing the room. ("added" also raises <see cref="RoomAdded"/>.)
    /// </summary>
    public event Action<RoomChange>? RoomChanged;

    private void OnRoomFrame(ServerFrame f)
    {
        var change = f.Event ?? "added";
        var room = new RoomInfo(f.Id ?? "", f.Name ?? "", f.Kind ?? "")
        {
            Topic = f.Topic ?? "",
            Visibility = f.Visibility ?? "public",
            Members = f.Members ?? 0,
            Role = f.Role ?? "member",
            LastSeq = f.LastSeq ?? 0,
        };
        lock (_gate)
        {
            if (change is "removed" or "deleted")
            {
                _lastSeq.Remove(room.Id);
            }
            else if (change == "added")
            {
                // Live delivery starts after the frame's last_seq, as after a welcome.
                _lastSeq.TryAdd(room.Id, room.LastSeq);
            }
        }

        if (change == "added")
        {
            Raise(RoomAdded, room);
        }

        Raise(RoomChanged, new RoomChange(change, room));
    }

    private static RoomSummary ToSummary(RoomDto r) => new(r.Id, r.Name, r.Kind, r.LastSeq, r.ReadSeq, r.MentionCount)
    {
        Topic = r.Topic,
        Visibility = r.Visibility,
        Members = checked((int)r.Members),
        Role = r.Role,
    };

    private static RoomInfo ToInfo(RoomDto r) => new(r.Id, r.Name, r.Kind)
    {
        Topic = r.Topic,
        Visibility = r.Visibility,
        Members = checked((int)r.Members),
        Role = r.Role,
        LastSeq = r.LastSeq,
    };

    private static string RoomPath(string roomId, string rest = "") => $"api/rooms/{Uri.EscapeDataString(roomId)}{rest}";

    private async Task NoContentAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await SendHttpAsync(method, path, content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static ByteArrayContent UsernameJson(string username) => Json(new UsernameBody { Username = username }, ClientJsonContext.Default.UsernameBody);

    /// <summary>POST /api/rooms with a topic and a visibility ("public" or "private"); the caller owns the new room.</summary>
    public async Task<RoomInfo> CreateRoomAsync(string name, string? topic, string? visibility, CancellationToken cancellationToken = default) =>
        ToInfo(await CallAsync(HttpMethod.Post, "api/rooms",
            Json(new CreateRoomBody { Name = name, Topic = topic, Visibility = visibility }, ClientJsonContext.Default.CreateRoomBody),
            ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false));

    /// <summary>PATCH /api/rooms/{id} (owner or moderator): what is null stays as it is. The room as the caller now sees it.</summary>
    public async Task<RoomInfo> UpdateRoomAsync(string roomId, string? name = null, string? topic = null, string? visibility = null,
        CancellationToken cancellationToken = default) =>
        ToInfo(await CallAsync(HttpMethod.Patch, RoomPath(roomId),
            Json(new RoomPatchBody { Name = name, Topic = topic, Visibility = visibility }, ClientJsonContext.Default.RoomPatchBody),
            ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false));

    /// <summary>GET /api/rooms/{id}/members (members only), in the order they joined.</summary>
    public async Task<IReadOnlyList<RoomMember>> GetMembersAsync(string roomId, CancellationToken cancellationToken = default)
    {
        var list = await CallAsync(HttpMethod.Get, RoomPath(roomId, "/members"), null, ClientJsonContext.Default.ListMemberDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(m => new RoomMember(m.Username, m.DisplayName ?? m.Username, m.Role, m.Online))];
    }

    /// <summary>GET /api/rooms/{id}/bans (owner or moderator): the banned usernames.</summary>
    public async Task<IReadOnlyList<string>> GetBansAsync(string roomId, CancellationToken cancellationToken = default) =>
        await CallAsync(HttpMethod.Get, RoomPath(roomId, "/bans"), null, ClientJsonContext.Default.ListString, cancellationToken).ConfigureAwait(false);

    /// <summary>POST /api/rooms/{id}/invites (owner or moderator): the user becomes a member at once.</summary>
    public Task InviteAsync(string roomId, string username, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Post, RoomPath(roomId, "/invites"), UsernameJson(username), cancellationToken);

    /// <summary>POST /api/rooms/{id}/kick (owner, or a moderator kicking a member).</summary>
    public Task KickAsync(string roomId, string username, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Post, RoomPath(roomId, "/kick"), UsernameJson(username), cancellationToken);

    /// <summary>POST /api/rooms/{id}/bans: removes the user (if a member) and keeps them out until unbanned.</summary>
    public Task BanAsync(string roomId, string username, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Post, RoomPath(roomId, "/bans"), UsernameJson(username), cancellationToken);

    /// <summary>DELETE /api/rooms/{id}/bans/{username}.</summary>
    public Task UnbanAsync(string roomId, string username, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Delete, RoomPath(roomId, "/bans/" + Uri.EscapeDataString(username)), null, cancellationToken);

    /// <summary>PUT /api/rooms/{id}/roles/{username} (owner only): "moderator", "member", or "owner" to hand the room over.</summary>
    public Task SetRoleAsync(string roomId, string username, string role, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Put, RoomPath(roomId, "/roles/" + Uri.EscapeDataString(username)),
            Json(new RoleBody { Role = role }, ClientJsonContext.Default.RoleBody), cancellationToken);

    /// <summary>DELETE /api/rooms/{id} (owner or server admin): the room and its history are gone.</summary>
    public Task DeleteRoomAsync(string roomId, CancellationToken cancellationToken = default) =>
        NoContentAsync(HttpMethod.Delete, RoomPath(roomId), null, cancellationToken);
}
