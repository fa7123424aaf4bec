using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>Protocol v2 §5 avatars: an image the caller uploaded (§3), readable by every signed-in user.</summary>
public sealed class AvatarTests
{
    private static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    [Fact]
    public async Task An_uploaded_image_becomes_the_avatar_that_every_signed_in_user_can_load_and_null_removes_it()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.UserAsync("a");
        var stranger = await server.UserAsync("s");
        var file = await alice.UploadOkAsync("me.png", TestImages.Make(300, 200), "image/png");
        var id = file.GetProperty("id").GetString();

        using var http = alice.Http();
        var me = await (await http.PatchAsJsonAsync("/api/me", new { avatar = id })).ExpectJsonAsync(HttpStatusCode.OK);
        var url = me.GetProperty("avatar_url").GetString()!;
        Assert.StartsWith("/api/files/" + id, url, StringComparison.Ordinal);

        // Someone who shares no room with alice sees it in the user list and may load it.
        using var strangerHttp = stranger.Http();
        var listed = (await strangerHttp.GetFromJsonAsync<JsonElement[]>("/api/users"))!.Single(u => u.GetProperty("username").GetString() == alice.Username);
        Assert.Equal(url, listed.GetProperty("avatar_url").GetString());
        using (var image = await stranger.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            Assert.StartsWith("image/", image.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        }

        using var anonymous = server.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);

        var cleared = await (await http.PatchAsync("/api/me", Json("{\"avatar\":null}"))).ExpectJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("avatar_url").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task An_avatar_must_be_an_image_the_caller_uploaded()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.UserAsync("a");
        var bob = await server.UserAsync("b");
        var alicesImage = (await alice.UploadOkAsync("a.png", TestImages.Make(64, 64), "image/png")).GetProperty("id").GetString();
        var text = (await bob.UploadOkAsync("notes.txt", Encoding.UTF8.GetBytes("not a picture"), "text/plain")).GetProperty("id").GetString();

        using var http = bob.Http();
        await Problem.AssertAsync(await http.PatchAsJsonAsync("/api/me", new { avatar = alicesImage }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await http.PatchAsJsonAsync("/api/me", new { avatar = text }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PatchAsJsonAsync("/api/me", new { avatar = "AAAAAAAAAAAAAAAAAAAAAA" }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await http.PatchAsJsonAsync("/api/me", new { avatar = "../../etc/passwd" }), HttpStatusCode.NotFound);
        Assert.Equal(JsonValueKind.Null, (await http.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("avatar_url").ValueKind);
    }
}
