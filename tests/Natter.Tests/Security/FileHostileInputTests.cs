using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Natter.Tests.Security;

/// <summary>
/// Hostile uploads (protocol v2 §3, docs/security.md): path names, empty files, files over the limit (streamed: the
/// server never holds a file in memory, measured on a server in its own process), HTML and SVG that must not run
/// script in Natter's origin, and an image bomb.
/// </summary>
public sealed class FileHostileInputTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static string FilesFolder(TestServer server) => server.DbPath + ".files";

    private static string[] StoredFiles(TestServer server) =>
        Directory.Exists(FilesFolder(server)) ? Directory.GetFiles(FilesFolder(server), "*", SearchOption.AllDirectories) : [];

    [Fact]
    public async Task A_name_with_path_segments_is_kept_as_its_last_segment_and_stored_under_the_files_id()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        var parent = Path.GetDirectoryName(server.DbPath)!;

        var file = await amy.UploadOkAsync("../../x", Encoding.UTF8.GetBytes("escape?"), "text/plain");
        Assert.Equal("x", file.GetProperty("name").GetString());
        var backslashes = await amy.UploadOkAsync(@"..\..\evil.txt", [1], "text/plain");
        Assert.Equal("evil.txt", backslashes.GetProperty("name").GetString());
        var spoof = await amy.UploadOkAsync("invoice\u202Efdp.exe", [1]);
        Assert.Equal("invoicefdp.exe", spoof.GetProperty("name").GetString());
        var dots = await amy.UploadOkAsync("..", [1]);
        Assert.Equal("file", dots.GetProperty("name").GetString());

        // Nothing was written beside the database or above it; the bytes live under their ids.
        Assert.False(File.Exists(Path.Combine(parent, "x")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(parent)!, "x")));
        Assert.All(StoredFiles(server), p => Assert.Matches("^[A-Za-z0-9_-]{22}$", Path.GetFileName(p)));
        Assert.Equal(4, StoredFiles(server).Length);

        using var get = await amy.GetAsync(file.GetProperty("url").GetString()!);
        Assert.Equal("x", get.Content.Headers.ContentDisposition?.FileNameStar);
    }

    [Fact]
    public async Task An_empty_file_is_accepted_and_served_as_zero_bytes()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");

        var file = await amy.UploadOkAsync("empty.txt", [], "text/plain");
        Assert.Equal(0, file.GetProperty("size").GetInt64());
        using var get = await amy.GetAsync(file.GetProperty("url").GetString()!);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Empty(await get.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(0, get.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task A_file_over_the_limit_is_refused_with_413_and_nothing_of_it_stays()
    {
        await using var server = await TestServer.StartAsync("Natter:Files:MaxUploadBytes=1048576");
        var amy = await server.UserAsync("amy");

        using (var exact = await amy.UploadAsync("exact.bin", new byte[1024 * 1024]))
        {
            Assert.Equal(HttpStatusCode.Created, exact.StatusCode);
        }

        using var over = await amy.UploadAsync("big.bin", new PatternContent(20L * 1024 * 1024));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        var problem = await over.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("1 MiB", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Only the first file's bytes are stored, and the refused one used none of the quota.
        Assert.Single(StoredFiles(server));
        using var again = await amy.UploadAsync("again.bin", new byte[1024 * 1024]);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task A_large_upload_streams_through_the_server_without_its_memory_growing_by_the_files_size()
    {
        var folder = Directory.CreateTempSubdirectory("natter-upload-").FullName;
        try
        {
            await using var server = await ServerProcess.StartAsync(new ServerOptions { Folder = folder, Settings = ["Natter:Files:MaxUploadBytes=268435456"] });
            var amy = await TestUser.RegisterAsync(server.BaseUri, "amy");
            await amy.UploadOkAsync("warm-up.bin", new byte[4 * 1024 * 1024]);
            var before = server.Memory();

            const long size = 200L * 1024 * 1024;
            using var ok = await amy.UploadAsync("large.bin", new PatternContent(size));
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
            var file = await ok.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal(size, file.GetProperty("size").GetInt64());
            var afterUpload = server.Memory();

            // And over the default-sized limit: refused as the limit passes, memory still flat.
            using var over = await amy.UploadAsync("huge.bin", new PatternContent(400L * 1024 * 1024));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
            var afterRefusal = server.Memory();

            var grown = afterRefusal.Peak - before.Peak;
            Assert.True(grown < 64L * 1024 * 1024,
                $"peak RSS grew by {grown / 1024 / 1024} MiB (before {before.Peak / 1024 / 1024} MiB, after the 200 MiB upload {afterUpload.Peak / 1024 / 1024} MiB, after the refused 400 MiB one {afterRefusal.Peak / 1024 / 1024} MiB)");
            TestContext.Current.SendDiagnosticMessage($"peak RSS {before.Peak / 1024 / 1024} → {afterUpload.Peak / 1024 / 1024} → {afterRefusal.Peak / 1024 / 1024} MiB");

            // The stored bytes are the sent ones (spot checks at the start, in the middle and at the end).
            foreach (var at in new[] { 0L, size / 2 + 12345, size - 10 })
            {
                using var part = await amy.GetAsync(file.GetProperty("url").GetString()!, r => r.Headers.Range = new RangeHeaderValue(at, at + 9));
                Assert.Equal(PatternContent.Slice(at, 10), await part.Content.ReadAsByteArrayAsync(Ct));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task An_upload_the_client_abandons_half_way_leaves_nothing_behind()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");

        await Assert.ThrowsAnyAsync<Exception>(() => amy.UploadAsync("half.bin", new PatternContent(8L * 1024 * 1024, failAfter: 2L * 1024 * 1024)));

        // The server saw the connection drop mid-part: no bytes, no row (the quota is untouched), nothing logged as an error.
        // The folder appears when the server starts writing the upload (nothing else was uploaded); then it empties.
        await Wait.UntilAsync(() => Directory.Exists(FilesFolder(server)) && StoredFiles(server).Length == 0, "the partial upload is removed");
        using var r = await amy.UploadAsync("after.bin", new byte[10]);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Single(StoredFiles(server));
    }

    [Theory]
    [InlineData("page.html", "text/html", "<html><body><script>parent.document.title='owned'</script></body></html>")]
    [InlineData("logo.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.cookie)</script></svg>")]
    [InlineData("fake.png", "image/png", "<html><script>alert(1)</script></html>")]
    public async Task Markup_is_never_an_image_and_is_served_as_a_sandboxed_attachment(string name, string declared, string content)
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");

        var file = await amy.UploadOkAsync(name, Encoding.UTF8.GetBytes(content), declared);
        Assert.False(file.TryGetProperty("thumb_url", out var thumb), $"thumb_url {thumb}");
        Assert.NotEqual("image/png", file.GetProperty("content_type").GetString());

        using var get = await amy.GetAsync(file.GetProperty("url").GetString()!);
        Assert.Equal("attachment", get.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", get.Headers.GetValues("X-Content-Type-Options").Single());
        var csp = get.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("sandbox", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        using var thumbGet = await amy.GetAsync(file.GetProperty("url").GetString() + "/thumb");
        Assert.Equal(HttpStatusCode.NotFound, thumbGet.StatusCode);
    }

    [Fact]
    public async Task An_image_bomb_is_refused_from_its_header_without_decoding_it()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        var bomb = TestImages.BombPng(50_000, 50_000);
        Assert.True(bomb.Length < 2048);

        using var refused = await amy.UploadAsync("bomb.png", bomb, "image/png");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("50000 × 50000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(StoredFiles(server));

        // The server goes on: a real image still gets its thumbnail.
        var ok = await amy.UploadOkAsync("fine.png", TestImages.Make(800, 600), "image/png");
        Assert.True(ok.TryGetProperty("thumb_url", out _));
    }
}

/// <summary>A body of a given length made on the fly (a repeating pattern), never held in memory whole.</summary>
public sealed class PatternContent(long length, long failAfter = long.MaxValue) : HttpContent
{
    public static byte[] Slice(long offset, int count) => [.. Enumerable.Range(0, count).Select(i => At(offset + i))];

    private static byte At(long position) => (byte)((position * 31 + (position >> 12)) & 0xFF);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var buffer = new byte[64 * 1024];
        for (long sent = 0; sent < length;)
        {
            if (sent >= failAfter)
            {
                throw new IOException("The sender gave up.");
            }

            var n = (int)Math.Min(buffer.Length, length - sent);
            for (var i = 0; i < n; i++)
            {
                buffer[i] = At(sent + i);
            }

            await stream.WriteAsync(buffer.AsMemory(0, n));
            sent += n;
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
