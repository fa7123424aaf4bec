using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Natter.Protocol;

namespace Natter.Client;

/// <summary>The HTTP calls of protocol v1 (accounts, rooms, history, posting) and the helpers both halves of the client share.</summary>
public sealed partial class NatterClient
{
    /// <summary>Registers a user; returns true when created, false when the name is already taken (409).</summary>
    public async Task<bool> RegisterAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(Api("api/register"),
            Json(new Credentials { Username = username, Password = password }, ClientJsonContext.Default.Credentials),
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Logs in and keeps the token (and the credentials, to log in again if a reconnect gets 401).</summary>
    public async Task<string> LoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(Api("api/login"),
            Json(new Credentials { Username = username, Password = password }, ClientJsonContext.Default.Credentials),
            cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var login = await response.Content.ReadFromJsonAsync(ClientJsonContext.Default.LoginResponse, cancellationToken).ConfigureAwait(false)
            ?? throw new NatterHttpException(response.StatusCode, "empty login response");
        _token = login.Token;
        Username = login.Username;
        _credentials = new Credentials { Username = username, Password = password };
        return login.Token;
    }

    /// <summary>Registers (ignoring "taken") and logs in.</summary>
    public async Task<string> RegisterOrLoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        await RegisterAsync(username, password, cancellationToken).ConfigureAwait(false);
        return await LoginAsync(username, password, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /api/me: the user the token belongs to (a cheap way to check a saved token).</summary>
    public async Task<string> GetMeAsync(CancellationToken cancellationToken = default)
    {
        var me = await CallAsync(HttpMethod.Get, "api/me", null, ClientJsonContext.Default.UsernameBody, cancellationToken).ConfigureAwait(false);
        Username = me.Username;
        return me.Username;
    }

    public async Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendHttpAsync(HttpMethod.Post, "api/logout", null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        _credentials = null;
    }

    public async Task<RoomInfo> CreateRoomAsync(string name, CancellationToken cancellationToken = default)
    {
        var dto = await CallAsync(HttpMethod.Post, "api/rooms",
            Json(new NameBody { Name = name }, ClientJsonContext.Default.NameBody), ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false);
        return ToInfo(dto);
    }

    public async Task<RoomInfo> JoinRoomAsync(string roomId, CancellationToken cancellationToken = default)
    {
        var dto = await CallAsync(HttpMethod.Post, $"api/rooms/{Uri.EscapeDataString(roomId)}/join", null,
            ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false);
        return ToInfo(dto);
    }

    public async Task LeaveRoomAsync(string roomId, CancellationToken cancellationToken = default)
    {
        using var response = await SendHttpAsync(HttpMethod.Post, $"api/rooms/{Uri.EscapeDataString(roomId)}/leave", null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The one direct room shared with <paramref name="username"/> (created if needed).</summary>
    public async Task<RoomInfo> OpenDirectAsync(string username, CancellationToken cancellationToken = default)
    {
        var dto = await CallAsync(HttpMethod.Post, "api/direct",
            Json(new UsernameBody { Username = username }, ClientJsonContext.Default.UsernameBody), ClientJsonContext.Default.RoomDto, cancellationToken).ConfigureAwait(false);
        return new RoomInfo(dto.Id, dto.Name, dto.Kind);
    }

    public async Task<IReadOnlyList<RoomSummary>> GetRoomsAsync(CancellationToken cancellationToken = default)
    {
        var list = await CallAsync(HttpMethod.Get, "api/rooms", null, ClientJsonContext.Default.ListRoomDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(ToSummary)];
    }

    /// <summary>GET /api/rooms/{id}/messages: with <paramref name="after"/> the oldest above it, else the newest below <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(string roomId, long? after = null, long? before = null, int? limit = null,
        CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (after is { } a) { query.Add("after=" + a.ToString(CultureInfo.InvariantCulture)); }
        if (before is { } b) { query.Add("before=" + b.ToString(CultureInfo.InvariantCulture)); }
        if (limit is { } l) { query.Add("limit=" + l.ToString(CultureInfo.InvariantCulture)); }
        var path = $"api/rooms/{Uri.EscapeDataString(roomId)}/messages" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        var list = await CallAsync(HttpMethod.Get, path, null, ClientJsonContext.Default.ListMessageDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(ToMessage)];
    }

    /// <summary>
    /// GET /api/rooms/{id}/messages?around=SEQ: the <paramref name="limit"/> messages nearest to <paramref name="seq"/>
    /// (half below it, the rest at or above it), ascending: for jumping to a reply's original.
    /// </summary>
    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAroundAsync(string roomId, long seq, int? limit = null, CancellationToken cancellationToken = default)
    {
        var path = $"api/rooms/{Uri.EscapeDataString(roomId)}/messages?around=" + seq.ToString(CultureInfo.InvariantCulture)
            + (limit is { } l ? "&limit=" + l.ToString(CultureInfo.InvariantCulture) : "");
        var list = await CallAsync(HttpMethod.Get, path, null, ClientJsonContext.Default.ListMessageDto, cancellationToken).ConfigureAwait(false);
        return [.. list.Select(ToMessage)];
    }

    /// <summary>POST /api/rooms/{id}/messages (idempotent by client_id).</summary>
    public async Task<ChatMessage> PostMessageAsync(string roomId, string text, string? clientId = null, CancellationToken cancellationToken = default)
    {
        var body = new PostMessageBody { Text = text, ClientId = clientId ?? NewClientId() };
        var dto = await CallAsync(HttpMethod.Post, $"api/rooms/{Uri.EscapeDataString(roomId)}/messages",
            Json(body, ClientJsonContext.Default.PostMessageBody), ClientJsonContext.Default.MessageDto, cancellationToken).ConfigureAwait(false);
        return ToMessage(dto);
    }


    private Uri Api(string path) => new(_baseUri, path);

    private Uri WebSocketUri()
    {
        var builder = new UriBuilder(new Uri(_baseUri, "ws"))
        {
            Scheme = _baseUri.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        return builder.Uri;
    }

    /// <summary>A time-ordered id (UUIDv7, 32 hex digits): a server's dedupe index takes consecutive sends at its right edge.</summary>
    private static string NewClientId() => Guid.CreateVersion7().ToString("N");

    private static ByteArrayContent Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private async Task<HttpResponseMessage> SendHttpAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Api(path)) { Content = content };
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }
        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> CallAsync<T>(HttpMethod method, string path, HttpContent? content,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendHttpAsync(method, path, content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
            ?? throw new NatterHttpException(response.StatusCode, "empty response");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        string? detail = null;
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > 0)
            {
                var problem = JsonSerializer.Deserialize(body, ClientJsonContext.Default.ProblemDto);
                detail = problem?.Detail ?? problem?.Title ?? Encoding.UTF8.GetString(body);
            }
        }
        catch (JsonException)
        {
            // Not problem details; the status says enough.
        }
        throw new NatterHttpException(response.StatusCode, detail);
    }

    private static ChatMessage ToMessage(MessageDto m) => new(m.Room, m.Seq, m.From, m.Text, m.Ts, m.ClientId)
    {
        ReplyTo = m.ReplyTo,
        Mentions = NoneIfEmpty(m.Mentions),
        EditedTs = m.EditedTs,
        Deleted = m.Deleted,
        Reactions = m.Reactions is { Count: > 0 } reactions ? [.. reactions.Select(r => new ReactionSummary(r.Emoji, r.Users))] : [],
        Files = ToFiles(m.Files),
    };

    // The shared empty list for none, so a ChatMessage without mentions equals one built without them.
    private static string[] NoneIfEmpty(List<string>? list) => list is { Count: > 0 } ? [.. list] : [];
}
