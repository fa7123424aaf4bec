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
        // The quote shows the original, fetched on its own, while the original itself is still not on screen.
        await Expect(quote).ToContainTextAsync("alice").WaitAsync(Slow, Ct);
        await Expect(quote).ToContainTextAsync("the very first question").WaitAsync(Slow, Ct);
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

    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task TheQuoteShowsTheOriginalFormattedOnOneLineWithoutItsMarkup(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("marks").WaitAsync(Slow, Ct);
        var original = await alice.PostMessageAsync(roomId,
            "*Release* is _today_, run `make ship` and read https://example.com/notes\n> checked by ~nobody~\n```\nlong log line\n```\n"
            + string.Concat(Enumerable.Repeat("and then some more words ", 12))).WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("marks").WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator($".msg[data-seq='{original}']")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await SendReplyAsync(alice, roomId, original, "shipping it");

        var quote = bob.Log.Locator(".msg[data-seq]").Filter(new() { HasText = "shipping it" }).Locator(".quote .quote-text");
        await Expect(quote).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        // Formatted as the message is: bold, italic, strike and inline code are elements; the link is its text only.
        await Expect(quote.Locator("strong")).ToHaveTextAsync("Release").WaitAsync(Slow, Ct);
        await Expect(quote.Locator("em")).ToHaveTextAsync("today").WaitAsync(Slow, Ct);
        await Expect(quote.Locator("s")).ToHaveTextAsync("nobody").WaitAsync(Slow, Ct);
        await Expect(quote.Locator("code.code")).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await Expect(quote.Locator("code.code").First).ToHaveTextAsync("make ship").WaitAsync(Slow, Ct);
        await Expect(quote.Locator("a, pre, blockquote")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        var text = await quote.TextContentAsync().WaitAsync(Slow, Ct) ?? "";
        Assert.StartsWith("Release is today, run make ship and read https://example.com/notes checked by nobody long log line and then", text, StringComparison.Ordinal);
        Assert.DoesNotContain(text, c => c is '*' or '_' or '`' or '~' or '>' or '\n');
        Assert.EndsWith("…", text, StringComparison.Ordinal);
        Assert.True(text.Length <= 141, text);

        // One line, as tall as the author's name above it, and longer than the box: the box cuts it (ellipsis).
        var box = await quote.EvaluateAsync<double[]>(
            "e => [e.getBoundingClientRect().height, e.parentElement.querySelector('.quote-from').getBoundingClientRect().height, e.scrollWidth, e.clientWidth]")
            .WaitAsync(Slow, Ct);
        Assert.True(box[0] < box[1] * 1.5, $"The quote is {box[0]} px tall; its author's line {box[1]} px.");
        Assert.True(box[2] > box[3], $"The quote's text ({box[2]} px) fits its box ({box[3]} px): it was not cut.");
        await bob.ScreenshotAsync($"reply-quote-formatted-{size}").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task AQuoteFollowsAnEditAndADeletionOfItsOriginalWhetherTheOriginalIsLoadedOrOnlyQuoted(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("plans").WaitAsync(Slow, Ct);
        var old = await alice.PostMessageAsync(roomId, "the plan is A").WaitAsync(Slow, Ct);
        for (var i = 1; i <= 60; i++) await alice.PostMessageAsync(roomId, $"filler {i}").WaitAsync(Slow, Ct);
        var recent = await alice.PostMessageAsync(roomId, "lunch at noon").WaitAsync(Slow, Ct);

        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("plans").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("lunch at noon")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // One reply quotes a message older than bob's history (its original fetched on its own), one a loaded message.
        await SendReplyAsync(alice, roomId, old, "about the plan");
        await SendReplyAsync(alice, roomId, recent, "about lunch");
        var oldQuote = bob.Log.Locator(".msg[data-seq]").Filter(new() { HasText = "about the plan" }).Locator(".quote");
        var recentQuote = bob.Log.Locator(".msg[data-seq]").Filter(new() { HasText = "about lunch" }).Locator(".quote");
        await Expect(oldQuote).ToContainTextAsync("the plan is A").WaitAsync(Slow, Ct);
        await Expect(recentQuote).ToContainTextAsync("lunch at noon").WaitAsync(Slow, Ct);

        // Edited live: both quotes show the new text, and the old original is still not loaded.
        await SendAsync(alice, HttpMethod.Patch, $"/api/rooms/{roomId}/messages/{old}", new { text = "the plan is B" });
        await SendAsync(alice, HttpMethod.Patch, $"/api/rooms/{roomId}/messages/{recent}", new { text = "lunch at one" });
        await Expect(oldQuote).ToContainTextAsync("the plan is B").WaitAsync(Slow, Ct);
        await Expect(recentQuote).ToContainTextAsync("lunch at one").WaitAsync(Slow, Ct);
        await Expect(oldQuote).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("the plan is B")).WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator($".msg[data-seq='{old}']")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"reply-quote-edited-{size}").WaitAsync(Slow, Ct);

        // Deleted live: both quotes say so.
        await SendAsync(alice, HttpMethod.Delete, $"/api/rooms/{roomId}/messages/{old}", new { });
        await SendAsync(alice, HttpMethod.Delete, $"/api/rooms/{roomId}/messages/{recent}", new { });
        await Expect(oldQuote.Locator(".quote-text")).ToHaveTextAsync("message deleted").WaitAsync(Slow, Ct);
        await Expect(recentQuote.Locator(".quote-text")).ToHaveTextAsync("message deleted").WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator($".msg[data-seq='{old}']")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"reply-quote-deleted-{size}").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    static async Task SendAsync(TestUser user, HttpMethod method, string path, object body)
    {
        using var http = user.Http();
        using var r = await http.SendAsync(new HttpRequestMessage(method, path) { Content = System.Net.Http.Json.JsonContent.Create(body) }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
    }

    static async Task SendReplyAsync(TestUser user, string roomId, long replyTo, string text = "back to the start")
    {
        using var http = user.Http();
        using var r = await http.PostAsync($"/api/rooms/{roomId}/messages",
            System.Net.Http.Json.JsonContent.Create(new { text, client_id = "reply-" + text.Length, reply_to = replyTo }), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
    }
}
