using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Natter.BrowserTests;

/// <summary>Another device of a user who is already registered: logs in over HTTP and asks what the server holds.</summary>
public sealed class ApiDevice : IDisposable
{
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);
    readonly HttpClient _http;

    ApiDevice(Uri baseUri) => _http = new HttpClient { BaseAddress = baseUri, Timeout = CallTimeout };

    public static async Task<ApiDevice> LoginAsync(Uri baseUri, string username, string password, CancellationToken ct)
    {
        var device = new ApiDevice(baseUri);
        using var login = await device._http.PostAsJsonAsync("api/login", new { username, password }, ct).WaitAsync(CallTimeout, ct);
        login.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await login.Content.ReadAsStringAsync(ct).WaitAsync(CallTimeout, ct));
        device._http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", doc.RootElement.GetProperty("token").GetString());
        return device;
    }

    /// <summary>The user's read position in a room, from GET /api/rooms.</summary>
    public async Task<long> ReadSeqAsync(string roomId, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("api/rooms", ct).WaitAsync(CallTimeout, ct));
        return doc.RootElement.EnumerateArray().Single(r => r.GetProperty("id").GetString() == roomId).GetProperty("read_seq").GetInt64();
    }

    public void Dispose() => _http.Dispose();
}
