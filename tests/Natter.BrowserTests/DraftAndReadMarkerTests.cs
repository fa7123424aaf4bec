using System.Diagnostics;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>What a new user hit in the message box and in a busy room (drafts per room, read markers).</summary>
public sealed class DraftAndReadMarkerTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task ADraftStaysInTheRoomItWasWrittenInAndSurvivesAReload()
    {
        var alice = await UserAsync("alice");
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        await alice.CreateRoomAsync("alpha").WaitAsync(Slow, Ct);
        await alice.CreateRoomAsync("beta").WaitAsync(Slow, Ct);
        var box = alice.Page.GetByLabel("Message", new() { Exact = true });

        await alice.OpenRoomAsync("alpha").WaitAsync(Slow, Ct);
        await box.FillAsync("half a thought for alpha").WaitAsync(Slow, Ct);

        // Another room has its own (empty) message box: Enter there posts only what was typed there.
        await alice.OpenRoomAsync("beta").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("").WaitAsync(Slow, Ct);
        await alice.SendAsync("for beta only").WaitAsync(Slow, Ct);
        await Expect(alice.Log.Locator(".msg[data-seq]")).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        Assert.Equal(["for beta only"], (await alice.HistoryAsync().WaitAsync(Slow, Ct)).Select(m => m.Text));

        // Back in alpha the draft is waiting, and nothing was sent there.
        await alice.OpenRoomAsync("alpha").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("half a thought for alpha").WaitAsync(Slow, Ct);
        await Expect(alice.Log.Locator(".msg")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        // A sent message leaves no draft behind; a new draft in beta outlives a reload, and so does alpha's.
        await alice.OpenRoomAsync("beta").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("").WaitAsync(Slow, Ct);
        await box.FillAsync("beta, second try").WaitAsync(Slow, Ct);
        await alice.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await Expect(alice.Page.Locator("#room-title")).ToHaveTextAsync("# beta").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("beta, second try").WaitAsync(Slow, Ct);
        await alice.OpenRoomAsync("alpha").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("half a thought for alpha").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AReaderInABusyRoomSeesNoToastAndTheirReadPositionReachesTheLastMessageOnOtherDevices()
    {
        const int Burst = 90;
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("busy").WaitAsync(Slow, Ct);

        var bob = await UserAsync("bob");
        var tap = await SocketTap.AttachAsync(bob.Page).WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("busy").WaitAsync(Slow, Ct);
        var bobsPhone = await TestUser.LoginAsync(Host.BaseUri, "bob", ChatUser.Password).WaitAsync(Slow, Ct);
        // A second window on the same room (the same session): both read, and share bob's event rate on the server.
        var window = await bob.Page.Context.NewPageAsync().WaitAsync(Slow, Ct);
        var windowTap = await SocketTap.AttachAsync(window).WaitAsync(Slow, Ct);
        await window.GotoAsync($"/#room/{roomId}").WaitAsync(Slow, Ct);
        await Expect(window.Locator("#conn-pill")).ToHaveTextAsync("Connected").WaitAsync(Slow, Ct);
        await Expect(window.Locator("#room-title")).ToHaveTextAsync("# busy").WaitAsync(Slow, Ct);

        // 90 messages arrive at once while bob reads the room.
        await PostManyAsync(alice, roomId, 1, Burst).WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator($".msg[data-seq='{Burst}']")).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        await ExpectReadSeqAsync(bobsPhone, roomId, Burst).WaitAsync(Slow, Ct);

        // The network drops; 90 more arrive meanwhile; the reconnect replays them all.
        await tap.CutAsync().WaitAsync(Slow, Ct);
        await Expect(bob.ConnectionStatus).ToHaveTextAsync("Offline").WaitAsync(Slow, Ct);
        await PostManyAsync(alice, roomId, Burst + 1, Burst).WaitAsync(Slow, Ct);
        tap.Restore();
        await Expect(bob.ConnectionStatus).ToHaveTextAsync("Connected", new() { Timeout = 20_000 }).WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator($".msg[data-seq='{2 * Burst}']")).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        await ExpectReadSeqAsync(bobsPhone, roomId, 2 * Burst).WaitAsync(Slow, Ct);

        // Nothing the client did on its own was refused, and the reader was never told about it.
        foreach (var (t, page) in new[] { (tap, bob.Page), (windowTap, window) })
        {
            Assert.DoesNotContain(t.Received("error"), e => e.GetProperty("code").GetString() == "rate_limited");
            await Expect(page.Locator("#toast")).ToHaveTextAsync("").WaitAsync(Slow, Ct);
        }
        var reads = tap.Sent("read");
        Assert.True(reads.Count < 2 * Burst / 10, $"{reads.Count} read frames for {2 * Burst} messages");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AReadMarkerTheServerRefusesIsNeverShownAndIsSentAgain()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("refusals").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob");
        var tap = await SocketTap.AttachAsync(bob.Page).WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("refusals").WaitAsync(Slow, Ct);
        var bobsPhone = await TestUser.LoginAsync(Host.BaseUri, "bob", ChatUser.Password).WaitAsync(Slow, Ct);

        // The next two read markers are answered rate_limited (the server's answer when a user's tabs read too fast).
        tap.RefuseNext("read", 2);
        for (var i = 1; i <= 3; i++)
        {
            await alice.PostMessageAsync(roomId, $"note {i}").WaitAsync(Slow, Ct);
            await Expect(bob.MessageText($"note {i}")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        }
        await ExpectReadSeqAsync(bobsPhone, roomId, 3).WaitAsync(Slow, Ct);
        Assert.Equal(0, tap.RefusalsLeft);
        await Expect(bob.Page.Locator("#toast")).ToHaveTextAsync("").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    static Task<long[]> PostManyAsync(TestUser api, string roomId, int first, int count) =>
        Task.WhenAll(Enumerable.Range(first, count).Select(i => api.PostMessageAsync(roomId, $"busy message {i}")));

    /// <summary>Asks the other device until the read position is there (markers go out about once a second).</summary>
    static async Task ExpectReadSeqAsync(TestUser device, string roomId, long expected)
    {
        var sw = Stopwatch.StartNew();
        long seen;
        while ((seen = await ReadSeqAsync(device, roomId)) != expected && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(200, Ct);
        }
        Assert.Equal(expected, seen);
    }
}
