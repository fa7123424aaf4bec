using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Where the reader is: the "New messages" divider, "Jump to latest", and links to a message.</summary>
public sealed partial class ReadingPositionTests(BrowserFixture browser) : BrowserTest(browser)
{
    [GeneratedRegex(@"^(\d+) new messages?\b")]
    private static partial Regex NewCount();

    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task TheDividerMarksWhereUnreadStartsAndJumpToLatestCountsWhatCameInBelow(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("standup").WaitAsync(Slow, Ct);
        for (var i = 1; i <= 5; i++) await alice.PostMessageAsync(roomId, $"yesterday {i}").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("standup").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("yesterday 5")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        // Read to the end: no divider.
        await Expect(bob.Log.Locator(".unread-divider")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        // Away in another room while 40 messages arrive; then back.
        await bob.CreateRoomAsync("elsewhere").WaitAsync(Slow, Ct);
        for (var i = 1; i <= 40; i++) await alice.PostMessageAsync(roomId, $"update {i}: the build on node {i % 3} is {(i % 2 == 0 ? "green" : "still running")}").WaitAsync(Slow, Ct);
        // (On a phone the room list is hidden behind the room, so it is found by its text, not its role.)
        await Expect(bob.Page.Locator("#room-list .room-item", new() { HasText = "standup" }))
            .ToHaveAttributeAsync("aria-label", "standup, 40 unread").WaitAsync(Slow, Ct);
        await bob.OpenRoomAsync("standup").WaitAsync(Slow, Ct);

        // The divider sits right above the first unread message and is on screen; the reader is scrolled up to it.
        var divider = bob.Log.GetByRole(AriaRole.Separator, new() { Name = "New messages" });
        await Expect(divider).ToBeInViewportAsync().WaitAsync(Slow, Ct);
        var next = await divider.EvaluateAsync<string>("d => d.nextElementSibling.querySelector('.text').textContent").WaitAsync(Slow, Ct);
        Assert.StartsWith("update 1:", next);
        var before = await divider.EvaluateAsync<string>("d => d.previousElementSibling.querySelector('.text').textContent").WaitAsync(Slow, Ct);
        Assert.Equal("yesterday 5", before);

        // Below the screen: the button, counting the new messages not seen yet.
        var jump = bob.Log.Locator(".jump-latest");
        await Expect(jump).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(jump).ToHaveTextAsync(NewCount()).WaitAsync(Slow, Ct);
        var count = int.Parse(NewCount().Match((await jump.TextContentAsync())!.Trim()).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(count, 1, 39);
        await bob.ScreenshotAsync($"unread-divider-jump-{size}").WaitAsync(Slow, Ct);

        // Three more while scrolled up: the reader stays where they are, the count grows by three.
        for (var i = 41; i <= 43; i++) await alice.PostMessageAsync(roomId, $"update {i}").WaitAsync(Slow, Ct);
        await Expect(jump).ToHaveTextAsync(new Regex($"^{count + 3} new messages")).WaitAsync(Slow, Ct);
        await Expect(divider).ToBeInViewportAsync().WaitAsync(Slow, Ct);

        // A click goes to the newest message; the button goes; the divider stays while the room is open.
        await jump.ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("update 43")).ToBeInViewportAsync().WaitAsync(Slow, Ct);
        await Expect(jump).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        await Expect(divider).ToHaveCountAsync(1).WaitAsync(Slow, Ct);

        // Scrolled up without anything new: the button only says where the latest is.
        await bob.Log.EvaluateAsync("log => { log.scrollTop = 0; log.dispatchEvent(new Event('scroll')); }").WaitAsync(Slow, Ct);
        await Expect(jump).ToHaveTextAsync(new Regex("^Jump to latest")).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task CopyLinkGivesAnAddressThatOpensTheRoomAtTheMessageAndALinkInTheSameTabJumpsThere()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("archive").WaitAsync(Slow, Ct);
        var seqs = new List<long>();
        for (var i = 1; i <= 120; i++) seqs.Add(await alice.PostMessageAsync(roomId, $"note {i}").WaitAsync(Slow, Ct));

        var bob = await UserAsync("bob", options: o => o.Permissions = ["clipboard-read", "clipboard-write"]);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("archive").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("note 120")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // "Copy link" puts the message's address on the clipboard.
        var newest = bob.Log.Locator($".msg[data-seq='{seqs[^1]}']");
        await newest.GetByRole(AriaRole.Button, new() { Name = "More actions" }).FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await bob.Page.GetByRole(AriaRole.Menuitem, new() { Name = "Copy link" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#toast")).ToHaveTextAsync("Link copied").WaitAsync(Slow, Ct);
        var copied = await bob.Page.EvaluateAsync<string>("navigator.clipboard.readText()").WaitAsync(Slow, Ct);
        Assert.Equal($"{Host.BaseUri.ToString().TrimEnd('/')}/#room/{Uri.EscapeDataString(roomId)}/{seqs[^1]}", copied);

        // carol opens a link to the third message: the room opens there, loaded around it, highlighted.
        var carol = await UserAsync("carol");
        await carol.RegisterAsync().WaitAsync(Slow, Ct);
        await carol.JoinPublicRoomAsync("archive").WaitAsync(Slow, Ct);
        await carol.OpenRoomAsync("archive").WaitAsync(Slow, Ct);
        await carol.CreateRoomAsync("lobby").WaitAsync(Slow, Ct);
        var third = copied[..copied.LastIndexOf('/')] + $"/{seqs[2]}";
        await carol.Page.GotoAsync("about:blank").WaitAsync(Slow, Ct);
        await carol.Page.GotoAsync(third).WaitAsync(Slow, Ct);
        var target = carol.Log.Locator($".msg[data-seq='{seqs[2]}']");
        await Expect(carol.Page.Locator("#room-title")).ToHaveTextAsync("# archive").WaitAsync(Slow, Ct);
        await Expect(target).ToBeInViewportAsync().WaitAsync(Slow, Ct);
        await Expect(target).ToHaveClassAsync(new Regex("flash")).WaitAsync(Slow, Ct);
        await Expect(target).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await Expect(carol.Page).ToHaveURLAsync(third).WaitAsync(Slow, Ct);

        // In bob's open tab a link to another message (a hash change) jumps there.
        await bob.Page.EvaluateAsync($"location.hash = '#room/{Uri.EscapeDataString(roomId)}/{seqs[9]}'").WaitAsync(Slow, Ct);
        var tenth = bob.Log.Locator($".msg[data-seq='{seqs[9]}']");
        await Expect(tenth).ToBeInViewportAsync().WaitAsync(Slow, Ct);
        await Expect(tenth).ToHaveClassAsync(new Regex("flash")).WaitAsync(Slow, Ct);
        // No hole between what was loaded around it and the newest page.
        var shown = (await bob.HistoryAsync().WaitAsync(Slow, Ct)).Select(m => m.Seq).ToList();
        Assert.Equal(shown.Order(), shown);
        Assert.Equal(shown.Count, shown.Distinct().Count());
        Assert.Equal(seqs[^1] - shown[0] + 1, shown.Count);
        AssertNoPageErrors();
    }
}
