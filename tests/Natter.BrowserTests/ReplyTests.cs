using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Replies: "Replying to X" over the message box, the quote in the reply, and the jump back to the original.</summary>
public sealed class ReplyTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task AReplyQuotesTheOriginalAndAClickOnTheQuoteJumpsToItEvenWhenItWasNotLoaded(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("threads").WaitAsync(Slow, Ct);
        var original = await alice.PostMessageAsync(roomId, "the very first question").WaitAsync(Slow, Ct);
        for (var i = 1; i <= 80; i++) await alice.PostMessageAsync(roomId, $"filler {i}").WaitAsync(Slow, Ct);

        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("threads").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("filler 80")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // bob answers the newest message: the bar names who, Cancel drops it, Reply again and send.
        var last = bob.Log.Locator(".msg[data-seq]").Last;
        var more = last.GetByRole(AriaRole.Button, new() { Name = "More actions" });
        await more.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await bob.Page.GetByRole(AriaRole.Menuitem, new() { Name = "Reply" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#reply-bar")).ToContainTextAsync("Replying to alice").WaitAsync(Slow, Ct);
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Cancel reply" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#reply-bar")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await more.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await bob.Page.GetByRole(AriaRole.Menuitem, new() { Name = "Reply" }).ClickAsync().WaitAsync(Slow, Ct);
        await bob.SendAsync("agreed").WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#reply-bar")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        var reply = bob.Log.Locator(".msg[data-seq]").Filter(new() { HasText = "agreed" });
        await Expect(reply.Locator(".quote")).ToContainTextAsync("filler 80").WaitAsync(Slow, Ct);
        var stored = await alice.HistoryAsync(roomId, "?limit=1").WaitAsync(Slow, Ct);
        Assert.Equal(original + 80, stored[0].GetProperty("reply_to").GetInt64());

        // A reply to the first message (not on bob's screen: only the newest page loaded) jumps there when clicked.
        await SendReplyAsync(alice, roomId, original);
        var quote = bob.Log.Locator(".msg[data-seq]").Last.Locator(".quote");
        await Expect(quote).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"events-reply-{size}").WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator($".msg[data-seq='{original}']")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await quote.ClickAsync().WaitAsync(Slow, Ct);
        var target = bob.Log.Locator($".msg[data-seq='{original}']");
        await Expect(target).ToBeInViewportAsync().WaitAsync(Slow, Ct);
        await Expect(target).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("flash")).WaitAsync(Slow, Ct);
        await Expect(target).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        // No hole: every seq from the original to the newest is on screen once.
        var seqs = (await bob.HistoryAsync().WaitAsync(Slow, Ct)).Select(m => m.Seq).ToList();
        Assert.Equal(seqs.Distinct().Order(), seqs);
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
        AssertNoPageErrors();
    }

    static async Task SendReplyAsync(TestUser user, string roomId, long replyTo)
    {
        using var http = user.Http();
        using var r = await http.PostAsync($"/api/rooms/{roomId}/messages",
            System.Net.Http.Json.JsonContent.Create(new { text = "back to the start", client_id = "reply-1", reply_to = replyTo }), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
    }
}
