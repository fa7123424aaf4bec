using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Natter.TestSupport;

/// <summary>Uploads and downloads of protocol v2 §3 as tests make them.</summary>
public static class FilesHttp
{
    /// <summary>POST /api/files with one multipart part "file".</summary>
    public static Task<HttpResponseMessage> UploadAsync(this TestUser user, string name, byte[] bytes, string contentType = "application/octet-stream") =>
        user.UploadAsync(name, new ByteArrayContent(bytes), contentType);

    public static async Task<HttpResponseMessage> UploadAsync(this TestUser user, string name, HttpContent content, string contentType = "application/octet-stream")
    {
        using var http = user.Http();
        http.Timeout = TimeSpan.FromMinutes(2);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var form = new MultipartFormDataContent { { content, "file", name } };
        return await http.PostAsync("/api/files", form, TestContext.Current.CancellationToken);
    }

    /// <summary>Uploads and expects 201; the file object.</summary>
    public static async Task<JsonElement> UploadOkAsync(this TestUser user, string name, byte[] bytes, string contentType = "application/octet-stream")
    {
        using var r = await user.UploadAsync(name, bytes, contentType);
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"upload {name}: HTTP {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<HttpResponseMessage> GetAsync(this TestUser user, string url, Action<HttpRequestMessage>? configure = null)
    {
        using var http = user.Http();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        configure?.Invoke(request);
        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>POST a JSON body to a path as this user.</summary>
    public static async Task<HttpResponseMessage> PostJsonAsync(this TestUser user, string path, object body)
    {
        using var http = user.Http();
        return await http.PostAsJsonAsync(path, body, TestContext.Current.CancellationToken);
    }

    public static async Task<HttpResponseMessage> DeletePathAsync(this TestUser user, string path)
    {
        using var http = user.Http();
        return await http.DeleteAsync(path, TestContext.Current.CancellationToken);
    }

    /// <summary>Expects the status; the JSON body.</summary>
    public static async Task<JsonElement> ExpectJsonAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            Assert.True(response.StatusCode == status, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
    }
}
