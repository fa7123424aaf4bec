using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>"@" in the message box lists the room's people; keyboard and mouse pick one.</summary>
public sealed class MentionAutocompleteTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task AtListsTheRoomsPeopleAndArrowsEnterTabEscapeAndAClickPickOne(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("team").WaitAsync(Slow, Ct);
        foreach (var name in new[] { "carol", "dave", "daniel" })
        {
            var u = await TestUser.RegisterAsync(Host.BaseUri, name, ChatUser.Password).WaitAsync(Slow, Ct);
            await u.JoinAsync(roomId).WaitAsync(Slow, Ct);
            await u.PostMessageAsync(roomId, $"{name} here").WaitAsync(Slow, Ct);
        }
        await alice.PostMessageAsync(roomId, "welcome, everyone").WaitAsync(Slow, Ct);
        // Someone who is not in the room is never offered.
        await TestUser.RegisterAsync(Host.BaseUri, "dan", ChatUser.Password).WaitAsync(Slow, Ct);

        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("team").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("welcome, everyone")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        var box = bob.Page.GetByLabel("Message", new() { Exact = true });
        var list = bob.Page.GetByRole(AriaRole.Listbox, new() { Name = "People to mention" });
        await box.FocusAsync().WaitAsync(Slow, Ct);
        await box.PressSequentiallyAsync("hi @da").WaitAsync(Slow, Ct);
        await Expect(list.Locator(".mention-name")).ToHaveTextAsync(["daniel", "dave"]).WaitAsync(Slow, Ct);
        await Expect(list.GetByRole(AriaRole.Option, new() { Name = "daniel" })).ToHaveAttributeAsync("aria-selected", "true").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"mention-autocomplete-{size}").WaitAsync(Slow, Ct);

        // ↓ moves, Enter picks (and sends nothing).
        await box.PressAsync("ArrowDown").WaitAsync(Slow, Ct);
        await Expect(list.GetByRole(AriaRole.Option, new() { Name = "dave" })).ToHaveAttributeAsync("aria-selected", "true").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveAttributeAsync("aria-activedescendant", "mention-option-1").WaitAsync(Slow, Ct);
        await box.PressAsync("Enter").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("hi @dave ").WaitAsync(Slow, Ct);
        await Expect(list).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        // Tab picks the first; ↑ wraps round.
        await box.PressSequentiallyAsync("and @").WaitAsync(Slow, Ct);
        await Expect(list.Locator(".mention-name")).ToHaveTextAsync(["alice", "carol", "daniel", "dave"]).WaitAsync(Slow, Ct);
        await box.PressAsync("ArrowUp").WaitAsync(Slow, Ct);
        await Expect(list.GetByRole(AriaRole.Option, new() { Name = "dave" })).ToHaveAttributeAsync("aria-selected", "true").WaitAsync(Slow, Ct);
        await box.PressAsync("ArrowDown").WaitAsync(Slow, Ct);
        await box.PressAsync("Tab").WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("hi @dave and @alice ").WaitAsync(Slow, Ct);
        await Expect(box).ToBeFocusedAsync().WaitAsync(Slow, Ct);

        // Escape closes the list and leaves the text as typed; no match, no list.
        await box.PressSequentiallyAsync("@ca").WaitAsync(Slow, Ct);
        await Expect(list.Locator(".mention-name")).ToHaveTextAsync(["carol"]).WaitAsync(Slow, Ct);
        await box.PressAsync("Escape").WaitAsync(Slow, Ct);
        await Expect(list).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("hi @dave and @alice @ca").WaitAsync(Slow, Ct);
        await box.PressSequentiallyAsync("x").WaitAsync(Slow, Ct);
        await Expect(list).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        // The mouse: a click on a name.
        await box.PressAsync("Backspace").WaitAsync(Slow, Ct);
        await box.PressAsync("Backspace").WaitAsync(Slow, Ct);
        await box.PressAsync("Backspace").WaitAsync(Slow, Ct);
        await box.PressSequentiallyAsync("c").WaitAsync(Slow, Ct);
        await list.GetByRole(AriaRole.Option, new() { Name = "carol" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(box).ToHaveValueAsync("hi @dave and @alice @carol ").WaitAsync(Slow, Ct);
        await Expect(box).ToBeFocusedAsync().WaitAsync(Slow, Ct);

        // Sent, the names are mentions: stored as such, and shown as such.
        await box.PressAsync("Enter").WaitAsync(Slow, Ct);
        var sent = bob.Log.Locator(".msg[data-seq]").Last;
        await Expect(sent.Locator(".mention")).ToHaveTextAsync(["@dave", "@alice", "@carol"]).WaitAsync(Slow, Ct);
        var stored = await alice.HistoryAsync(roomId, "?limit=1").WaitAsync(Slow, Ct);
        Assert.Equal(["alice", "carol", "dave"], stored[0].GetProperty("mentions").EnumerateArray().Select(m => m.GetString()).Order());
        AssertNoPageErrors();
    }
}
