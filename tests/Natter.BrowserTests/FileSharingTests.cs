using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>
/// Sharing files (protocol v2 §3): the attach button and pasting an image upload with a progress bar into a tray
/// over the message box, the message shows images as thumbnails that open full size and other files as cards that
/// download, and a refused upload says why.
/// </summary>
public sealed class FileSharingTests(BrowserFixture browser) : BrowserTest(browser)
{
    private async Task<(TestUser Alice, string RoomId, ChatUser Bob)> RoomWithBobAsync(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("share").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("share").WaitAsync(Slow, Ct);
        return (alice, roomId, bob);
    }

    private static async Task<JsonElement> LastMessageAsync(TestUser user, string roomId)
    {
        using var http = user.Http();
        var list = await http.GetFromJsonAsync<JsonElement[]>($"/api/rooms/{roomId}/messages?limit=1", Ct).WaitAsync(Slow, Ct);
        return list![^1];
    }

    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task FilesAttachedByTheButtonShowAsAThumbnailThatOpensFullSizeAndACardThatDownloads(string size)
    {
        var (alice, roomId, bob) = await RoomWithBobAsync(size);
        var report = Encoding.UTF8.GetBytes("%PDF-1.4 quarterly numbers\n");
        var photo = TestImages.Make(1200, 800);

        var chooser = await bob.Page.RunAndWaitForFileChooserAsync(
            () => bob.Page.GetByRole(AriaRole.Button, new() { Name = "Attach files" }).ClickAsync()).WaitAsync(Slow, Ct);
        await chooser.SetFilesAsync(new[]
        {
            new FilePayload { Name = "harbour.png", MimeType = "image/png", Buffer = photo },
            new FilePayload { Name = "report.pdf", MimeType = "application/pdf", Buffer = report },
        }).WaitAsync(Slow, Ct);

        var tray = bob.Page.GetByRole(AriaRole.List, new() { Name = "Attachments" });
        await Expect(tray.Locator(".upload.ready")).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await Expect(tray).ToContainTextAsync("report.pdf").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"files-tray-{size}").WaitAsync(Slow, Ct);
        await bob.SendAsync("photo and the report").WaitAsync(Slow, Ct);
        await Expect(tray).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        var message = bob.Log.Locator(".msg[data-seq]").Filter(new() { HasText = "photo and the report" });
        var thumb = message.Locator(".file-image img");
        await Expect(thumb).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(thumb).ToHaveJSPropertyAsync("complete", true).WaitAsync(Slow, Ct);
        Assert.Equal(400, await thumb.EvaluateAsync<int>("img => img.naturalWidth").WaitAsync(Slow, Ct));
        var card = message.Locator(".file-card");
        await Expect(card).ToContainTextAsync("report.pdf").WaitAsync(Slow, Ct);
        await Expect(card).ToContainTextAsync("application/pdf").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"files-message-{size}").WaitAsync(Slow, Ct);

        // The thumbnail opens the full image over the page.
        await thumb.ClickAsync().WaitAsync(Slow, Ct);
        var lightbox = bob.Page.Locator("dialog#lightbox");
        await Expect(lightbox).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(lightbox.Locator("img")).ToHaveJSPropertyAsync("naturalWidth", 1200).WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"files-lightbox-{size}").WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Escape").WaitAsync(Slow, Ct);
        await Expect(lightbox).ToBeHiddenAsync().WaitAsync(Slow, Ct);

        // The card downloads the file under its name, byte for byte.
        var download = await bob.Page.RunAndWaitForDownloadAsync(() => card.ClickAsync()).WaitAsync(Slow, Ct);
        Assert.Equal("report.pdf", download.SuggestedFilename);
        var saved = await download.PathAsync().WaitAsync(Slow, Ct);
        Assert.Equal(report, await File.ReadAllBytesAsync(saved, Ct));

        // What was stored: the message lists both files, and alice (a member) reads them too.
        var stored = await LastMessageAsync(alice, roomId);
        Assert.Equal(["harbour.png", "report.pdf"], stored.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        using var http = alice.Http();
        Assert.Equal(photo, await http.GetByteArrayAsync(stored.GetProperty("files")[0].GetProperty("url").GetString(), Ct).WaitAsync(Slow, Ct));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task APastedImageIsUploadedAndSentAsAThumbnail()
    {
        var (alice, roomId, bob) = await RoomWithBobAsync("desktop");

        // A screenshot on the clipboard, pasted into the message box.
        await bob.Page.GetByLabel("Message", new() { Exact = true }).FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.EvaluateAsync("""
            async () => {
              const canvas = document.createElement('canvas');
              canvas.width = 640; canvas.height = 360;
              const g = canvas.getContext('2d');
              g.fillStyle = '#4f46e5'; g.fillRect(0, 0, 640, 360);
              g.fillStyle = '#fbbf24'; g.fillRect(40, 40, 200, 120);
              const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
              const dt = new DataTransfer();
              dt.items.add(new File([blob], 'image.png', { type: 'image/png' }));
              document.getElementById('message-input').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
            }
            """).WaitAsync(Slow, Ct);

        var tray = bob.Page.GetByRole(AriaRole.List, new() { Name = "Attachments" });
        await Expect(tray.Locator(".upload.ready img.upload-preview")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var box = bob.Page.GetByLabel("Message", new() { Exact = true });
        await box.PressAsync("Enter").WaitAsync(Slow, Ct);

        var thumb = bob.Log.Locator(".msg[data-seq] .file-image img");
        await Expect(thumb).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(thumb).ToHaveJSPropertyAsync("naturalWidth", 400).WaitAsync(Slow, Ct);
        var stored = await LastMessageAsync(alice, roomId);
        Assert.Equal("", stored.GetProperty("text").GetString());
        var file = stored.GetProperty("files")[0];
        Assert.Equal(("image/png", true), (file.GetProperty("content_type").GetString(), file.TryGetProperty("thumb_url", out _)));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AnUploadInProgressShowsItsProgressAndCanBeCancelled()
    {
        var (alice, roomId, bob) = await RoomWithBobAsync("desktop");

        // The server is slow to answer: the upload stays in progress until cancelled.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await bob.Page.RouteAsync("**/api/files", async route => { await held.Task; await route.AbortAsync(); }).WaitAsync(Slow, Ct);
        await bob.Page.Locator("#file-input").SetInputFilesAsync(new FilePayload { Name = "video.mp4", MimeType = "video/mp4", Buffer = new byte[300_000] }).WaitAsync(Slow, Ct);
        var chip = bob.Page.Locator("#upload-tray .upload.uploading");
        await Expect(chip.GetByRole(AriaRole.Progressbar, new() { Name = "Uploading video.mp4" })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("files-uploading-desktop").WaitAsync(Slow, Ct);

        // Enter waits for the upload; × cancels it and nothing is sent.
        await bob.SendAsync("with the video").WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#toast")).ToContainTextAsync("still uploading").WaitAsync(Slow, Ct);
        await chip.GetByRole(AriaRole.Button, new() { Name = "Cancel upload of video.mp4" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#upload-tray")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        held.TrySetResult();
        await bob.Page.GetByLabel("Message", new() { Exact = true }).PressAsync("Enter").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("with the video")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var stored = await LastMessageAsync(alice, roomId);
        Assert.Empty(stored.GetProperty("files").EnumerateArray());
        AssertNoPageErrors();
    }

    [Fact]
    public async Task ARefusedUploadSaysWhyAndCanBeRemoved()
    {
        var (_, _, bob) = await RoomWithBobAsync("desktop");

        await bob.Page.Locator("#file-input").SetInputFilesAsync(new FilePayload { Name = "bomb.png", MimeType = "image/png", Buffer = TestImages.BombPng() }).WaitAsync(Slow, Ct);
        var failed = bob.Page.Locator("#upload-tray .upload.failed");
        await Expect(failed.GetByRole(AriaRole.Alert)).ToContainTextAsync("50000 × 50000 pixels").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("files-refused-desktop").WaitAsync(Slow, Ct);

        // Sending now sends nothing (no text, no uploaded file); the × takes the refused file away.
        await bob.Page.GetByLabel("Message", new() { Exact = true }).PressAsync("Enter").WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator(".msg")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await failed.GetByRole(AriaRole.Button, new() { Name = "Remove bomb.png" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#upload-tray")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }
}
