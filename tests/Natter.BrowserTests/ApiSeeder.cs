using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Natter.BrowserTests;

/// <summary>Plain HTTP calls (bearer token) used to prepare data before the browser looks at it.</summary>
public sealed class ApiSeeder : IDisposable
{
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);
    readonly HttpClient _http;

    public ApiSeeder(Uri baseUri) => _http = new HttpClient { BaseAddress = baseUri, Timeout = CallTimeout };

    public async Task RegisterAndLoginAsync(string username, string password, CancellationToken ct)
    {
        using var reg = await _http.PostAsJsonAsync("api/register", new { username, password }, ct).WaitAsync(CallTimeout, ct);
        Assert.Equal(HttpStatusCode.Created, reg.StatusCode);
        using var login = await _http.PostAsJsonAsync("api/login", new { username, password }, ct).WaitAsync(CallTimeout, ct);
        login.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await login.Content.ReadAsStringAsync(ct).WaitAsync(CallTimeout, ct));
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", doc.RootElement.GetProperty("token").GetString());
    }

    public async Task<string> CreateRoomAsync(string name, CancellationToken ct)
    {
        using var res = await _http.PostAsJsonAsync("api/rooms", new { name }, ct).WaitAsync(CallTimeout, ct);
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync(ct).WaitAsync(CallTimeout, ct));
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Posts a message, waiting out the per-user send limit (429) when it is hit.</summary>
    public async Task<long> PostMessageAsync(string roomId, string text, CancellationToken ct)
    {
        var clientId = Guid.NewGuid().ToString("N");
        for (var attempt = 0; ; attempt++)
        {
            using var res = await _http.PostAsJsonAsync($"api/rooms/{Uri.EscapeDataString(roomId)}/messages", new { text, client_id = clientId }, ct)
                .WaitAsync(CallTimeout, ct);
            if (res.StatusCode == HttpStatusCode.TooManyRequests && attempt < 50)
            {
                await Task.Delay(res.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200), ct);
                continue;
            }
            Assert.True(res.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"POST message: HTTP {(int)res.StatusCode}");
            using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync(ct).WaitAsync(CallTimeout, ct));
            return doc.RootElement.GetProperty("seq").GetInt64();
        }
    }

    public void Dispose() => _http.Dispose();
}
