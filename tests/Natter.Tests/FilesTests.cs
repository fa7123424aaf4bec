using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// Protocol v2 §3: uploading, attaching to a message, who may read a file (uploader, members of a room where a
/// message lists it; 401 without credentials, 404 otherwise), the headers of every file answer, thumbnails, and a
/// deletion freeing bytes no other message lists.
/// </summary>
public sealed class FilesTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static async Task<(TestServer Server, TestUser Amy, TestUser Ben, string Room)> RoomOfTwoAsync(params string[] settings)
    {
        var server = await TestServer.StartAsync(settings);
        var amy = await server.UserAsync("amy");
        var ben = await server.UserAsync("ben");
        var room = await amy.CreateRoomAsync("files");
        await ben.JoinAsync(room);
        return (server, amy, ben, room);
    }

    private static readonly string[] UnknownFile = ["AAAAAAAAAAAAAAAAAAAAAA"];

    private static string Url(JsonElement file) => file.GetProperty("url").GetString()!;

    private static string Id(JsonElement file) => file.GetProperty("id").GetString()!;

    [Fact]
    public async Task An_upload_answers_with_the_file_object_and_its_uploader_can_download_it()
    {
        var (server, amy, _, _) = await RoomOfTwoAsync();
        await using var _ = server;
        var content = Encoding.UTF8.GetBytes("minutes of the meeting\n");

        var file = await amy.UploadOkAsync("minutes.txt", content, "text/plain");
        Assert.Equal("minutes.txt", file.GetProperty("name").GetString());
        Assert.Equal(content.Length, file.GetProperty("size").GetInt64());
        Assert.Equal("text/plain", file.GetProperty("content_type").GetString());
        Assert.Equal($"/api/files/{Id(file)}", Url(file));
        Assert.False(file.TryGetProperty("thumb_url", out var thumbUrl), $"thumb_url {thumbUrl}");

        using var get = await amy.GetAsync(Url(file));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("attachment", get.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("minutes.txt", get.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("nosniff", get.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("sandbox", get.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.NotNull(get.Headers.ETag);
        Assert.Equal("bytes", get.Headers.AcceptRanges.Single());
    }

    [Fact]
    public async Task A_file_listed_by_a_message_reaches_members_live_in_history_and_on_sync_and_they_can_read_it()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var carol = await server.UserAsync("carol");
        var file = await amy.UploadOkAsync("plan.pdf", [1, 2, 3, 4], "application/pdf");

        // Before any message lists it, only the uploader reads it.
        using (var early = await ben.GetAsync(Url(file)))
        {
            Assert.Equal(HttpStatusCode.NotFound, early.StatusCode);
        }

        var b = await EventSocket.ConnectAsync(ben);
        var a = await EventSocket.ConnectAsync(amy);
        var send = EventSocket.Send(room, "the plan");
        send["files"] = new[] { Id(file) };
        Assert.Equal(1, (await a.AckAsync(send)).GetProperty("seq").GetInt64());

        var live = Assert.Single(await b.EventsAsync(1));
        var listed = Assert.Single(live.GetProperty("files").EnumerateArray());
        Assert.Equal((Id(file), "plan.pdf", 4L, "application/pdf", Url(file)),
            (Id(listed), listed.GetProperty("name").GetString(), listed.GetProperty("size").GetInt64(), listed.GetProperty("content_type").GetString(), Url(listed)));

        var history = await ben.MessageAsync(room, 1);
        Assert.Equal(Id(file), Id(Assert.Single(history.GetProperty("files").EnumerateArray())));

        var again = await EventSocket.ConnectAsync(ben);
        await again.Socket.SendAsync(new { type = "sync", rooms = new Dictionary<string, long> { [room] = 0 }, @ref = "s" });
        var synced = await again.UntilAsync("synced");
        Assert.Contains(synced, f => f.GetProperty("type").GetString() == "message" && Id(f.GetProperty("files")[0]) == Id(file));

        using (var member = await ben.GetAsync(Url(file)))
        {
            Assert.Equal(HttpStatusCode.OK, member.StatusCode);
            Assert.Equal([1, 2, 3, 4], await member.Content.ReadAsByteArrayAsync(Ct));
        }

        using (var stranger = await carol.GetAsync(Url(file)))
        {
            Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        }

        using var anonymous = new HttpClient { BaseAddress = server.BaseUri };
        using var noCredentials = await anonymous.GetAsync(Url(file), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, noCredentials.StatusCode);
    }

    [Fact]
    public async Task A_member_who_leaves_the_room_can_no_longer_read_its_files_but_the_uploader_can()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var file = await amy.UploadOkAsync("agenda.txt", Encoding.UTF8.GetBytes("1. files"), "text/plain");
        await (await amy.SendAsync(room, new { text = "agenda", files = new[] { Id(file) } })).JsonAsync(HttpStatusCode.Created);
        using (var before = await ben.GetAsync(Url(file)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var http = ben.Http();
        using (var left = await http.PostAsync($"/api/rooms/{room}/leave", null, Ct))
        {
            Assert.True(left.IsSuccessStatusCode);
        }

        using (var after = await ben.GetAsync(Url(file)))
        {
            Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        }

        using var uploader = await amy.GetAsync(Url(file));
        Assert.Equal(HttpStatusCode.OK, uploader.StatusCode);
    }

    [Fact]
    public async Task Only_the_uploader_can_attach_a_file_and_an_unknown_file_is_not_found()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var file = await amy.UploadOkAsync("mine.txt", [42]);

        using var theirs = await ben.SendAsync(room, new { text = "taking it", files = new[] { Id(file) } });
        Assert.Equal(HttpStatusCode.Forbidden, theirs.StatusCode);
        using var unknown = await amy.SendAsync(room, new { text = "?", files = UnknownFile });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var tooMany = await amy.SendAsync(room, new { text = "?", files = Enumerable.Repeat(Id(file), 11).ToArray() });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);

        // A message may be its files alone.
        var sent = await (await amy.SendAsync(room, new { text = "", files = new[] { Id(file) } })).JsonAsync(HttpStatusCode.Created);
        Assert.Equal("", sent.GetProperty("text").GetString());
        Assert.Equal(Id(file), Id(sent.GetProperty("files")[0]));
    }

    [Fact]
    public async Task Deleting_a_message_frees_its_files_bytes_unless_another_message_lists_them()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync();
        await using var _ = server;
        var file = await amy.UploadOkAsync("shared.bin", [9, 9, 9]);
        var only = await amy.UploadOkAsync("only.bin", [7]);
        await (await amy.SendAsync(room, new { text = "one", files = new[] { Id(file), Id(only) } })).JsonAsync(HttpStatusCode.Created);
        await (await amy.SendAsync(room, new { text = "two", files = new[] { Id(file) } })).JsonAsync(HttpStatusCode.Created);
        var folder = server.DbPath + ".files";
        Assert.True(File.Exists(Path.Combine(folder, Id(only)[..2], Id(only))));

        var deleted = await (await amy.DeleteMessageAsync(room, 1)).JsonAsync();
        Assert.Equal("delete", deleted.GetProperty("kind").GetString());
        Assert.Empty((await ben.MessageAsync(room, 1)).GetProperty("files").EnumerateArray());

        using (var stillListed = await ben.GetAsync(Url(file)))
        {
            Assert.Equal(HttpStatusCode.OK, stillListed.StatusCode);
        }

        using (var freed = await amy.GetAsync(Url(only)))
        {
            Assert.Equal(HttpStatusCode.NotFound, freed.StatusCode);
        }

        await Wait.UntilAsync(() => !File.Exists(Path.Combine(folder, Id(only)[..2], Id(only))), "the freed file's bytes are removed");

        await (await amy.DeleteMessageAsync(room, 2)).JsonAsync();
        using (var gone = await amy.GetAsync(Url(file)))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        await Wait.UntilAsync(() => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any() is false, "every freed file's bytes are removed");

        // A freed file cannot be attached again.
        using var again = await amy.SendAsync(room, new { text = "three", files = new[] { Id(file) } });
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task An_image_is_served_inline_with_a_thumbnail_of_at_most_400_pixels()
    {
        var (server, amy, _, _) = await RoomOfTwoAsync();
        await using var _ = server;
        var png = TestImages.Make(1200, 800);

        // The declared type and name say nothing: the bytes make it an image.
        var file = await amy.UploadOkAsync("photo.bin", png, "application/octet-stream");
        Assert.Equal("image/png", file.GetProperty("content_type").GetString());
        var thumbUrl = file.GetProperty("thumb_url").GetString()!;

        using var full = await amy.GetAsync(Url(file));
        Assert.Equal("inline", full.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("image/png", full.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await full.Content.ReadAsByteArrayAsync(Ct));

        using var thumb = await amy.GetAsync(thumbUrl);
        Assert.Equal(HttpStatusCode.OK, thumb.StatusCode);
        Assert.Contains("sandbox", thumb.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal((400, 267), TestImages.SizeOf(await thumb.Content.ReadAsByteArrayAsync(Ct)));

        var jpeg = await amy.UploadOkAsync("tall.jpg", TestImages.Make(300, 2000, SkiaSharp.SKEncodedImageFormat.Jpeg), "image/jpeg");
        using var tallThumb = await amy.GetAsync(jpeg.GetProperty("thumb_url").GetString()!);
        Assert.Equal((60, 400), TestImages.SizeOf(await tallThumb.Content.ReadAsByteArrayAsync(Ct)));
    }

    [Fact]
    public async Task Range_requests_get_206_with_those_bytes_and_a_matching_if_none_match_gets_304()
    {
        var (server, amy, _, _) = await RoomOfTwoAsync();
        await using var _ = server;
        var content = Encoding.ASCII.GetBytes("0123456789abcdef");
        var file = await amy.UploadOkAsync("digits.txt", content, "text/plain");

        using var part = await amy.GetAsync(Url(file), r => r.Headers.Range = new RangeHeaderValue(4, 9));
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal("456789", Encoding.ASCII.GetString(await part.Content.ReadAsByteArrayAsync(Ct)));
        Assert.Equal("bytes 4-9/16", part.Content.Headers.ContentRange?.ToString());

        using var tail = await amy.GetAsync(Url(file), r => r.Headers.Range = new RangeHeaderValue(null, 3));
        Assert.Equal("def", Encoding.ASCII.GetString(await tail.Content.ReadAsByteArrayAsync(Ct)));

        using var whole = await amy.GetAsync(Url(file));
        var etag = whole.Headers.ETag!;
        using var cached = await amy.GetAsync(Url(file), r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
        Assert.Empty(await cached.Content.ReadAsByteArrayAsync(Ct));

        using var beyond = await amy.GetAsync(Url(file), r => r.Headers.Range = new RangeHeaderValue(100, 200));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
    }

    [Fact]
    public async Task The_quota_counts_each_users_files_until_they_are_freed()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync("Natter:Files:QuotaBytes=1000");
        await using var _ = server;
        var first = await amy.UploadOkAsync("a.bin", new byte[600]);

        using (var over = await amy.UploadAsync("b.bin", new byte[600]))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
            Assert.Contains("quota", await over.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        // Another user's quota is their own; freeing the first file makes room again.
        await ben.UploadOkAsync("b.bin", new byte[600]);
        await (await amy.SendAsync(room, new { text = "a", files = new[] { Id(first) } })).JsonAsync(HttpStatusCode.Created);
        await (await amy.DeleteMessageAsync(room, 1)).JsonAsync();
        await amy.UploadOkAsync("b.bin", new byte[600]);
    }

    [Fact]
    public async Task An_upload_that_is_not_multipart_or_has_no_file_part_is_refused()
    {
        var (server, amy, _, _) = await RoomOfTwoAsync();
        await using var _ = server;
        using var http = amy.Http();
        using var json = await http.PostAsJsonAsync("/api/files", new { file = "x" }, Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);

        using var form = new MultipartFormDataContent { { new StringContent("x"), "other" } };
        using var noFile = await http.PostAsync("/api/files", form, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, noFile.StatusCode);
    }

    [Fact]
    public async Task Uploads_sent_in_parallel_never_pass_the_quota_together()
    {
        var (server, amy, _, _) = await RoomOfTwoAsync("Natter:Files:QuotaBytes=1000");
        await using var _ = server;

        // Each upload begins with the whole quota free; only three of 300 bytes fit in it.
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => amy.UploadAsync($"part{i}.bin", new byte[300])));
        try
        {
            Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
            foreach (var refused in answers.Where(a => a.StatusCode != HttpStatusCode.Created))
            {
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
                Assert.Contains("quota", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }
        }
        finally
        {
            foreach (var a in answers)
            {
                a.Dispose();
            }
        }

        // 900 bytes are used: 100 more fit, 101 do not; nothing of the refused uploads stays on disk.
        using (var over = await amy.UploadAsync("over.bin", new byte[101]))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        }

        await amy.UploadOkAsync("last.bin", new byte[100]);
        Assert.Equal(4, Directory.GetFiles(server.DbPath + ".files", "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task An_upload_no_message_lists_is_removed_with_its_bytes_after_the_unattached_age()
    {
        var (server, amy, ben, room) = await RoomOfTwoAsync("Natter:Files:UnattachedUploadAge=00:00:02", "Natter:Files:SweepInterval=00:00:01");
        await using var _ = server;
        var attached = await amy.UploadOkAsync("kept.txt", Encoding.UTF8.GetBytes("kept"), "text/plain");
        var forgotten = await amy.UploadOkAsync("forgotten.txt", Encoding.UTF8.GetBytes("forgotten"), "text/plain");
        await (await amy.SendAsync(room, new { text = "see", files = new[] { Id(attached) } })).JsonAsync(HttpStatusCode.Created);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var get = await amy.GetAsync(Url(forgotten));
            if (get.StatusCode == HttpStatusCode.NotFound)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "The unattached upload was never removed.");
            await Task.Delay(200, Ct);
        }

        // Its bytes are gone too; the attached file stays readable by both, and the freed one cannot be attached now.
        var left = Directory.GetFiles(server.DbPath + ".files", "*", SearchOption.AllDirectories);
        Assert.Equal([Id(attached)], left.Select(Path.GetFileName));
        using (var kept = await ben.GetAsync(Url(attached)))
        {
            Assert.Equal("kept", await kept.Content.ReadAsStringAsync(Ct));
        }

        using var late = await amy.SendAsync(room, new { text = "late", files = new[] { Id(forgotten) } });
        Assert.False(late.IsSuccessStatusCode, $"A send listing a removed upload was accepted: {late.StatusCode}");
    }
}
