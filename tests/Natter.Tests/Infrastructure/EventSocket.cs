using System.Net.Http.Json;
using System.Text.Json;

namespace Natter.Tests.Infrastructure;

/// <summary>
/// A protocol v2 client over a <see cref="TestSocket"/>: requests carry a ref and wait for the reply with that ref
/// (ack or error); every other frame is kept, in arrival order, so a test can read the room events it got.
/// </summary>
public sealed class EventSocket(TestSocket socket)
{
    public static readonly string[] EventTypes = ["message", "edit", "delete", "reaction"];

    private readonly List<JsonElement> _kept = [];
    private int _next;

    public TestSocket Socket { get; } = socket;

    public static async Task<EventSocket> ConnectAsync(TestUser user)
    {
        var socket = new EventSocket(await user.ConnectAsync());
        await socket.Socket.NextAsync("welcome");
        return socket;
    }

    /// <summary>Sends a frame with a fresh ref and returns the ack or error that answers it.</summary>
    public async Task<JsonElement> RequestAsync(Dictionary<string, object?> frame)
    {
        var reference = Guid.NewGuid().ToString("N");
        frame["ref"] = reference;
        await Socket.SendAsync(frame);
        var i = 0;
        while (true)
        {
            for (; i < _kept.Count; i++)
            {
                if (_kept[i].TryGetProperty("ref", out var r) && r.GetString() == reference && _kept[i].GetProperty("type").GetString() is "ack" or "error")
                {
                    var reply = _kept[i];
                    _kept.RemoveAt(i);
                    if (i < _next)
                    {
                        _next--;
                    }

                    return reply;
                }
            }

            _kept.Add(await Socket.NextAsync());
        }
    }

    /// <summary>Sends every frame at once, then returns their replies in the same order.</summary>
    public async Task<List<JsonElement>> RequestAllAsync(IReadOnlyList<Dictionary<string, object?>> frames)
    {
        var refs = new List<string>();
        foreach (var frame in frames)
        {
            var reference = Guid.NewGuid().ToString("N");
            frame["ref"] = reference;
            refs.Add(reference);
            await Socket.SendAsync(frame);
        }

        var replies = new Dictionary<string, JsonElement>();
        while (replies.Count < refs.Count)
        {
            var f = await Socket.NextAsync();
            if (f.TryGetProperty("ref", out var r) && refs.Contains(r.GetString()!) && f.GetProperty("type").GetString() is "ack" or "error")
            {
                replies[r.GetString()!] = f;
            }
            else
            {
                _kept.Add(f);
            }
        }

        return [.. refs.Select(r => replies[r])];
    }

    /// <summary>The request's ack; fails the test on an error frame.</summary>
    public async Task<JsonElement> AckAsync(Dictionary<string, object?> frame)
    {
        var reply = await RequestAsync(frame);
        Assert.True(reply.GetProperty("type").GetString() == "ack", $"expected an ack, got {reply}");
        return reply;
    }

    /// <summary>The error code that answers the request; fails the test on an ack.</summary>
    public async Task<string> ErrorAsync(Dictionary<string, object?> frame)
    {
        var reply = await RequestAsync(frame);
        Assert.True(reply.GetProperty("type").GetString() == "error", $"expected an error, got {reply}");
        return reply.GetProperty("code").GetString()!;
    }

    /// <summary>The next <paramref name="count"/> room event frames (message, edit, delete, reaction), whatever came between.</summary>
    public async Task<List<JsonElement>> EventsAsync(int count)
    {
        var events = new List<JsonElement>();
        while (events.Count < count)
        {
            if (_next == _kept.Count)
            {
                _kept.Add(await Socket.NextAsync());
            }

            var frame = _kept[_next++];
            if (EventTypes.Contains(frame.GetProperty("type").GetString()))
            {
                events.Add(frame);
            }
        }

        return events;
    }

    /// <summary>Frames up to the next of this type (kept ones first); the frames before it are returned, it is not.</summary>
    public async Task<List<JsonElement>> UntilAsync(string type)
    {
        var before = new List<JsonElement>();
        while (true)
        {
            if (_next == _kept.Count)
            {
                _kept.Add(await Socket.NextAsync());
            }

            var frame = _kept[_next++];
            if (frame.GetProperty("type").GetString() == type)
            {
                return before;
            }

            before.Add(frame);
        }
    }

    public static Dictionary<string, object?> Send(string room, string text, string? clientId = null, long? replyTo = null) =>
        new() { ["type"] = "send", ["room"] = room, ["text"] = text, ["client_id"] = clientId ?? Guid.NewGuid().ToString("N"), ["reply_to"] = replyTo };

    public static Dictionary<string, object?> Edit(string room, long target, string text, string? clientId = null) =>
        new() { ["type"] = "edit", ["room"] = room, ["target"] = target, ["text"] = text, ["client_id"] = clientId ?? Guid.NewGuid().ToString("N") };

    public static Dictionary<string, object?> Delete(string room, long target, string? clientId = null) =>
        new() { ["type"] = "delete", ["room"] = room, ["target"] = target, ["client_id"] = clientId ?? Guid.NewGuid().ToString("N") };

    public static Dictionary<string, object?> React(string room, long target, string emoji, bool on = true, string? clientId = null) =>
        new() { ["type"] = "react", ["room"] = room, ["target"] = target, ["emoji"] = emoji, ["on"] = on, ["client_id"] = clientId ?? Guid.NewGuid().ToString("N") };
}

/// <summary>The HTTP side of protocol v2's room events.</summary>
public static class EventHttp
{
    public static async Task<HttpResponseMessage> SendAsync(this TestUser user, string room, object body)
    {
        using var http = user.Http();
        return await http.PostAsJsonAsync($"/api/rooms/{room}/messages", body);
    }

    public static async Task<HttpResponseMessage> EditAsync(this TestUser user, string room, long seq, object body)
    {
        using var http = user.Http();
        return await http.PatchAsJsonAsync($"/api/rooms/{room}/messages/{seq}", body);
    }

    public static async Task<HttpResponseMessage> DeleteMessageAsync(this TestUser user, string room, long seq, string? clientId = null)
    {
        using var http = user.Http();
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/rooms/{room}/messages/{seq}");
        if (clientId is not null)
        {
            request.Content = JsonContent.Create(new { client_id = clientId });
        }

        return await http.SendAsync(request);
    }

    public static async Task<HttpResponseMessage> ReactAsync(this TestUser user, string room, long seq, string emoji, bool on, string? clientId = null)
    {
        using var http = user.Http();
        using var request = new HttpRequestMessage(on ? HttpMethod.Put : HttpMethod.Delete,
            $"/api/rooms/{room}/messages/{seq}/reactions/{Uri.EscapeDataString(emoji)}");
        if (clientId is not null)
        {
            request.Content = JsonContent.Create(new { client_id = clientId });
        }

        return await http.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, System.Net.HttpStatusCode status = System.Net.HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The one message with this seq, as history lists it now.</summary>
    public static async Task<JsonElement> MessageAsync(this TestUser user, string room, long seq)
    {
        var page = await user.HistoryAsync(room, $"?after={seq - 1}&limit=1");
        var m = Assert.Single(page);
        Assert.Equal(seq, m.GetProperty("seq").GetInt64());
        return m;
    }

    /// <summary>The caller's rooms as GET /api/rooms lists them, by id.</summary>
    public static async Task<Dictionary<string, JsonElement>> RoomsAsync(this TestUser user)
    {
        using var http = user.Http();
        var rooms = await http.GetFromJsonAsync<JsonElement[]>("/api/rooms");
        return rooms!.ToDictionary(r => r.GetProperty("id").GetString()!);
    }

    public static string[] Strings(this JsonElement array) => [.. array.EnumerateArray().Select(x => x.GetString()!)];
}
