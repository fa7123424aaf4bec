using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Search (protocol v2 §2) in the browser: the box, the results with their words marked, and the jump to a hit.</summary>
public sealed class SearchTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task SearchFindsAnOldMessageMarksTheWordsAndJumpsToItInItsRoom(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var trips = await alice.CreateRoomAsync("Trips").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(trips, "Booked the train, see you there").WaitAsync(Slow, Ct);
        var hit = await alice.PostMessageAsync(trips, "The Über ride to Zürich was great").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(trips, "<b>not bold</b> uber <img src=x onerror=alert(1)> zurich").WaitAsync(Slow, Ct);
        for (var i = 0; i < 70; i++)
        {
            await alice.PostMessageAsync(trips, $"later chatter {i}").WaitAsync(Slow, Ct);
        }

        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("Trips").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("later chatter 69")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        Assert.Equal(0, await bob.Log.Locator($".msg[data-seq='{hit}']").CountAsync().WaitAsync(Slow, Ct)); // not loaded yet

        // Desktop: Ctrl+K from the message box. Phone: the search bar in the room list.
        if (size == "phone")
        {
            await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Back to rooms" }).ClickAsync().WaitAsync(Slow, Ct);
            await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Search messages" }).ClickAsync().WaitAsync(Slow, Ct);
        }
        else
        {
            await bob.Page.GetByLabel("Message", new() { Exact = true }).PressAsync("Control+k").WaitAsync(Slow, Ct);
        }

        var dialog = bob.Page.Locator("#search-dialog");
        await Expect(dialog).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var box = bob.Page.GetByRole(AriaRole.Searchbox, new() { Name = "Search messages" });
        await Expect(box).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await box.FillAsync("uber ZUR").WaitAsync(Slow, Ct);

        var results = dialog.Locator("button.search-hit");
        await Expect(results).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await Expect(dialog.Locator("#search-status")).ToHaveTextAsync("2 messages found, newest first.").WaitAsync(Slow, Ct);

        // Newest first; markup in a message is text, and only the matching starts of words are marked.
        var newest = results.Nth(0);
        await Expect(newest.Locator(".search-text")).ToHaveTextAsync("<b>not bold</b> uber <img src=x onerror=alert(1)> zurich").WaitAsync(Slow, Ct);
        Assert.Equal(0, await newest.Locator(".search-text b, .search-text img").CountAsync().WaitAsync(Slow, Ct));
        Assert.Equal(["uber", "zur"], await newest.Locator("mark").AllTextContentsAsync().WaitAsync(Slow, Ct));

        var older = results.Nth(1);
        await Expect(older.Locator(".search-room")).ToHaveTextAsync("# Trips").WaitAsync(Slow, Ct);
        await Expect(older.Locator(".search-from")).ToHaveTextAsync("alice").WaitAsync(Slow, Ct);
        await Expect(older.Locator(".search-time")).ToHaveTextAsync(new Regex(@"\d")).WaitAsync(Slow, Ct);
        Assert.Equal(["Über", "Zür"], await older.Locator("mark").AllTextContentsAsync().WaitAsync(Slow, Ct));
        await bob.ScreenshotAsync($"search-results-{size}").WaitAsync(Slow, Ct);
        var violations = await AxeAsync(bob, $"search dialog {size}").WaitAsync(Slow, Ct);
        Assert.DoesNotContain(violations, v => v.Impact is "serious" or "critical");

        // The keyboard reaches the results; Enter on the older one jumps to it: loaded around it and highlighted.
        await box.PressAsync("ArrowDown").WaitAsync(Slow, Ct);
        await Expect(newest).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await newest.PressAsync("ArrowDown").WaitAsync(Slow, Ct);
        await Expect(older).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await older.PressAsync("Enter").WaitAsync(Slow, Ct);

        await Expect(dialog).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        var target = bob.Log.Locator($".msg[data-seq='{hit}']");
        await Expect(target).ToBeInViewportAsync().WaitAsync(Slow, Ct);
        await Expect(target).ToHaveClassAsync(new Regex(@"\bflash\b")).WaitAsync(Slow, Ct);
        await Expect(target.Locator(".text")).ToHaveTextAsync("The Über ride to Zürich was great").WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#room-title")).ToHaveTextAsync("# Trips").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"search-jumped-{size}").WaitAsync(Slow, Ct);

        // "/" outside a text field opens it again, with the last search; a word found nowhere says so.
        await bob.Log.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("/").WaitAsync(Slow, Ct);
        await Expect(box).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await box.FillAsync("zeppelin").WaitAsync(Slow, Ct);
        await Expect(dialog.Locator("#search-status")).ToHaveTextAsync("No messages found.").WaitAsync(Slow, Ct);
        await Expect(results).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await box.PressAsync("Escape").WaitAsync(Slow, Ct);
        await Expect(dialog).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AChineseJapaneseOrKoreanWordInsideTextWithoutSpacesIsFoundAndMarked()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var room = await alice.CreateRoomAsync("Asia").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(room, "東京都に住んでいます").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(room, "我们明天去北京开会").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(room, "서울에서 만나요").WaitAsync(Slow, Ct);

        var bob = await UserAsync("bob");
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("Asia").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("서울에서 만나요")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await bob.Page.GetByLabel("Message", new() { Exact = true }).PressAsync("Control+k").WaitAsync(Slow, Ct);
        var dialog = bob.Page.Locator("#search-dialog");
        var box = bob.Page.GetByRole(AriaRole.Searchbox, new() { Name = "Search messages" });
        var results = dialog.Locator("button.search-hit");

        foreach (var (query, text, marked) in new[]
        {
            ("住んで", "東京都に住んでいます", "住んで"),
            ("北京 会", "我们明天去北京开会", "北京,会"),
            ("만나", "서울에서 만나요", "만나"),
        })
        {
            await box.FillAsync(query).WaitAsync(Slow, Ct);
            await Expect(results).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
            await Expect(results.Locator(".search-text")).ToHaveTextAsync(text).WaitAsync(Slow, Ct);
            Assert.Equal(marked, string.Join(',', await results.Locator("mark").AllTextContentsAsync().WaitAsync(Slow, Ct)));
        }

        AssertNoPageErrors();
    }
}
