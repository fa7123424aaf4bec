using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Natter.Tests.Infrastructure;

public static class Problem
{
    /// <summary>The response has this status and an RFC 9457 problem-details body that says so.</summary>
    public static async Task AssertAsync(HttpResponseMessage r, HttpStatusCode status)
    {
        Assert.Equal(status, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
    }
}
