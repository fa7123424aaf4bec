using System.Net;

namespace Natter.Client.Tests;

/// <summary>The client library's uploads, sends with files and downloads against a real server.</summary>
public sealed class ClientFilesTests
{
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    private static async Task<NatterClient> LoggedInAsync(Uri baseUri, string username)
    {
        var client = new NatterClient(baseUri, new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(50) });
        Assert.True(await client.RegisterAsync(username, Password, Ct).WaitAsync(Step, Ct));
        await client.LoginAsync(username, Password, Ct).WaitAsync(Step, Ct);
        return client;
    }

    [Fact]
    public async Task An_uploaded_file_reports_progress_is_sent_with_a_message_and_a_member_downloads_it()
    {
        await using var server = await TestServer.StartAsync();
        await using var amy = await LoggedInAsync(server.BaseUri, NewName("amy"));
        await using var ben = await LoggedInAsync(server.BaseUri, NewName("ben"));
        var room = await amy.CreateRoomAsync("files", Ct).WaitAsync(Step, Ct);
        await ben.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        var received = new TaskCompletionSource<ChatMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        ben.MessageReceived += m => received.TrySetResult(m);
        await amy.ConnectAsync(Ct).WaitAsync(Step, Ct);
        await ben.ConnectAsync(Ct).WaitAsync(Step, Ct);

        var content = new byte[1_000_000];
        new Random(3).NextBytes(content);
        var reported = new List<long>();
        var file = await amy.UploadAsync(new MemoryStream(content), "data.bin", "application/octet-stream",
            new SyncProgress(n => reported.Add(n)), Ct).WaitAsync(Step, Ct);
        Assert.Equal(("data.bin", 1_000_000L, "application/octet-stream", false), (file.Name, file.Size, file.ContentType, file.IsImage));
        Assert.Equal(1_000_000L, reported[^1]);
        Assert.True(reported.Count > 1);

        var image = await amy.UploadAsync(new MemoryStream(TestImages.Make(640, 480)), "shot.png", cancellationToken: Ct).WaitAsync(Step, Ct);
        Assert.True(image.IsImage);
        Assert.Equal("image/png", image.ContentType);

        var ack = await amy.SendAsync(room.Id, "two files", [file.Id, image.Id], cancellationToken: Ct).WaitAsync(Step, Ct);
        var message = await received.Task.WaitAsync(Step, Ct);
        Assert.Equal(ack.Seq, message.Seq);
        Assert.Equal([file, image], message.Files);

        var history = Assert.Single(await ben.GetMessagesAsync(room.Id, cancellationToken: Ct).WaitAsync(Step, Ct));
        Assert.Equal([file, image], history.Files);

        await using (var bytes = await ben.DownloadAsync(file.Url, Ct).WaitAsync(Step, Ct))
        {
            using var copy = new MemoryStream();
            await bytes.CopyToAsync(copy, Ct);
            Assert.Equal(content, copy.ToArray());
        }

        await using (var thumb = await ben.DownloadAsync(image.ThumbUrl!, Ct).WaitAsync(Step, Ct))
        {
            using var copy = new MemoryStream();
            await thumb.CopyToAsync(copy, Ct);
            Assert.Equal((400, 300), TestImages.SizeOf(copy.ToArray()));
        }
    }

    [Fact]
    public async Task An_upload_over_the_limit_fails_with_413_and_another_users_file_cannot_be_sent()
    {
        await using var server = await TestServer.StartAsync("Natter:Files:MaxUploadBytes=1000");
        await using var amy = await LoggedInAsync(server.BaseUri, NewName("amy"));
        await using var ben = await LoggedInAsync(server.BaseUri, NewName("ben"));
        var room = await amy.CreateRoomAsync("files", Ct).WaitAsync(Step, Ct);
        await ben.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        await ben.ConnectAsync(Ct).WaitAsync(Step, Ct);

        var tooLarge = await Assert.ThrowsAsync<NatterHttpException>(() => amy.UploadAsync(new MemoryStream(new byte[5000]), "big.bin", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);

        var amys = await amy.UploadAsync(new MemoryStream([1, 2, 3]), "mine.txt", "text/plain", cancellationToken: Ct).WaitAsync(Step, Ct);
        var refused = await Assert.ThrowsAsync<NatterException>(() => ben.SendAsync(room.Id, "not mine", [amys.Id], cancellationToken: Ct).WaitAsync(Step, Ct));
        Assert.Equal("forbidden", refused.Code);
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, after the upload returns).</summary>
    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
