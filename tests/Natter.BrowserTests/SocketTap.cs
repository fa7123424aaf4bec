using System.Text.Json;
using Microsoft.Playwright;

namespace Natter.BrowserTests;

/// <summary>
/// Sits between a page and the server's /ws (Playwright's WebSocket routing): records every frame each way,
/// and can cut the socket and refuse reconnects for a while, like a network that drops and comes back.
/// </summary>
public sealed class SocketTap
{
    readonly Lock _gate = new();
    readonly List<string> _fromClient = [];
    readonly List<string> _fromServer = [];
    IWebSocketRoute? _current;
    bool _cut;
    string? _refuseType;
    int _refuseCount;

    SocketTap() { }

    /// <summary>Attach before the page opens its socket (before logging in).</summary>
    public static async Task<SocketTap> AttachAsync(IPage page)
    {
        var tap = new SocketTap();
        await page.RouteWebSocketAsync("**/ws", tap.OnSocket).WaitAsync(TimeSpan.FromSeconds(10));
        return tap;
    }

    void OnSocket(IWebSocketRoute page)
    {
        lock (_gate)
        {
            if (_cut)
            {
                _ = page.CloseAsync(new() { Code = 4000, Reason = "network down" });
                return;
            }
            _current = page;
        }
        var server = page.ConnectToServer();
        page.OnMessage(f =>
        {
            if (f.Text is { } text && Refuses(text) is { } answer)
            {
                lock (_gate) _fromClient.Add(text);
                page.Send(answer);
                return;
            }
            Pass(f, _fromClient, server);
        });
        server.OnMessage(f =>
        {
            if (f.Text is { } text && Drops(text)) return;
            Pass(f, _fromServer, page);
        });
    }

    Func<JsonElement, bool>? _drop;

    /// <summary>Server frames that match are lost on the way to the page (recorded, not passed on); null stops that.</summary>
    public void DropFromServer(Func<JsonElement, bool>? match)
    {
        lock (_gate) _drop = match;
    }

    /// <summary>Server frames lost so far.</summary>
    public IReadOnlyList<JsonElement> DroppedFrames
    {
        get { lock (_gate) return [.. _dropped]; }
    }

    readonly List<JsonElement> _dropped = [];

    bool Drops(string text)
    {
        var frame = JsonDocument.Parse(text).RootElement.Clone();
        lock (_gate)
        {
            if (_drop is null || !_drop(frame)) return false;
            _dropped.Add(frame);
            return true;
        }
    }

    void Pass(IWebSocketFrame frame, List<string> record, IWebSocketRoute to)
    {
        if (frame.Text is { } text)
        {
            lock (_gate) record.Add(text);
            to.Send(text);
        }
        else
        {
            to.Send(frame.Binary ?? []);
        }
    }

    /// <summary>The next <paramref name="count"/> frames of this type are answered rate_limited, as a busy server would, and not passed on.</summary>
    public void RefuseNext(string type, int count)
    {
        lock (_gate)
        {
            _refuseType = type;
            _refuseCount = count;
        }
    }

    /// <summary>How many frames are still to be refused.</summary>
    public int RefusalsLeft
    {
        get { lock (_gate) return _refuseCount; }
    }

    string? Refuses(string text)
    {
        var frame = JsonDocument.Parse(text).RootElement;
        lock (_gate)
        {
            if (_refuseCount == 0 || frame.GetProperty("type").GetString() != _refuseType) return null;
            _refuseCount--;
        }
        var reference = frame.TryGetProperty("ref", out var r) ? r.GetString() : null;
        return JsonSerializer.Serialize(new { type = "error", code = "rate_limited", message = "Too many typing and read frames.", @ref = reference });
    }

    /// <summary>Closes the page's socket and refuses new ones until <see cref="Restore"/>.</summary>
    public async Task CutAsync()
    {
        IWebSocketRoute? current;
        lock (_gate)
        {
            _cut = true;
            current = _current;
            _current = null;
        }
        if (current is not null) await current.CloseAsync(new() { Code = 4000, Reason = "network down" }).WaitAsync(TimeSpan.FromSeconds(10));
    }

    public void Restore()
    {
        lock (_gate) _cut = false;
    }

    /// <summary>Frames the page sent, of this type.</summary>
    public IReadOnlyList<JsonElement> Sent(string type) => Of(_fromClient, type);

    /// <summary>Frames the server sent to the page, of this type.</summary>
    public IReadOnlyList<JsonElement> Received(string type) => Of(_fromServer, type);

    IReadOnlyList<JsonElement> Of(List<string> frames, string type)
    {
        string[] copy;
        lock (_gate) copy = [.. frames];
        return [.. copy.Select(f => JsonDocument.Parse(f).RootElement.Clone())
            .Where(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.GetString() == type)];
    }
}
