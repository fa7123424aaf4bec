using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Edits, deletions and reactions (protocol v2 §1) as a reader and as the author see them.</summary>
public sealed class MessageEventTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task EditsDeletionsAndReactionsShowLiveAfterAReloadAndAfterAReconnect()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("events").WaitAsync(Slow, Ct);
        var first = await alice.PostMessageAsync(roomId, "frist post").WaitAsync(Slow, Ct);
        var second = await alice.PostMessageAsync(roomId, "something regrettable").WaitAsync(Slow, Ct);

        var bob = await UserAsync("bob");
        var tap = await SocketTap.AttachAsync(bob.Page).WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("events").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("something regrettable")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Live: an edit replaces the text and says so (with its time on hover), a reaction shows as a chip,
        // a deletion leaves a placeholder.
        await SendAsync(alice, HttpMethod.Patch, $"/api/rooms/{roomId}/messages/{first}", new { text = "first post" });
        await SendAsync(alice, HttpMethod.Put, $"/api/rooms/{roomId}/messages/{first}/reactions/%F0%9F%91%8D", new { });
        await SendAsync(alice, HttpMethod.Delete, $"/api/rooms/{roomId}/messages/{second}", new { });
        await ExpectStateAsync(bob, first, second).WaitAsync(Slow, Ct);

        // The same after a reload (history in its current state).
        await bob.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await ExpectStateAsync(bob, first, second).WaitAsync(Slow, Ct);

        // Offline, more events happen; the reconnect's sync replays them in order.
        await tap.CutAsync().WaitAsync(Slow, Ct);
        await Expect(bob.ConnectionStatus).ToHaveTextAsync("Offline").WaitAsync(Slow, Ct);
        var third = await alice.PostMessageAsync(roomId, "after the outage").WaitAsync(Slow, Ct);
        await SendAsync(alice, HttpMethod.Patch, $"/api/rooms/{roomId}/messages/{first}", new { text = "first post, edited twice" });
        await SendAsync(alice, HttpMethod.Delete, $"/api/rooms/{roomId}/messages/{first}/reactions/%F0%9F%91%8D", new { });
        tap.Restore();
        await Expect(bob.ConnectionStatus).ToHaveTextAsync("Connected", new() { Timeout = 20_000 }).WaitAsync(Slow, Ct);
        var msg1 = bob.Log.Locator($".msg[data-seq='{first}']");
        await Expect(msg1.Locator(".text")).ToHaveTextAsync("first post, edited twice").WaitAsync(Slow, Ct);
        await Expect(msg1.Locator(".chip")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("after the outage")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Bob's read position reached the last event (the cursor moved on every kind), so no unread is left.
        var rooms = await alice.Http().GetFromJsonAsync<System.Text.Json.JsonElement[]>("/api/rooms", Ct);
        var last = rooms!.Single(r => r.GetProperty("id").GetString() == roomId).GetProperty("last_seq").GetInt64();
        Assert.True(last > third);
        await Expect(bob.RoomButton("events")).Not.ToContainTextAsync("unread").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("events-edited-deleted-desktop").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    static async Task ExpectStateAsync(ChatUser bob, long first, long second)
    {
        var msg1 = bob.Log.Locator($".msg[data-seq='{first}']");
        await Expect(msg1.Locator(".text")).ToHaveTextAsync("first post");
        await Expect(msg1.Locator(".edited")).ToBeVisibleAsync();
        await Expect(msg1.Locator(".edited")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("^Edited "));
        var chip = msg1.GetByRole(AriaRole.Button, new() { Name = "👍 1, by alice" });
        await Expect(chip).ToBeVisibleAsync();
        await Expect(chip).ToHaveAttributeAsync("aria-pressed", "false");
        var msg2 = bob.Log.Locator($".msg[data-seq='{second}']");
        await Expect(msg2.Locator(".text")).ToHaveTextAsync("message deleted");
        await Expect(msg2).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("deleted"));
        await Expect(bob.Log).Not.ToContainTextAsync("regrettable");
    }

    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task TheAuthorEditsReactsAndDeletesFromTheMessageMenuWithTheKeyboard(string size)
    {
        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.CreateRoomAsync("menus").WaitAsync(Slow, Ct);
        var carol = await UserAsync("carol");
        await carol.RegisterAsync().WaitAsync(Slow, Ct);
        await carol.JoinPublicRoomAsync("menus").WaitAsync(Slow, Ct);
        await bob.SendAsync("teh plan").WaitAsync(Slow, Ct);
        await bob.SendAsync("a message to delete").WaitAsync(Slow, Ct);
        var msg = bob.Log.Locator(".msg[data-seq]").First;
        await Expect(carol.MessageText("a message to delete")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Keyboard: focus "More actions", Enter opens the menu on its first item; Escape closes it.
        var more = msg.GetByRole(AriaRole.Button, new() { Name = "More actions" });
        await more.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        var menu = bob.Page.GetByRole(AriaRole.Menu, new() { Name = "Message actions" });
        await Expect(menu.GetByRole(AriaRole.Menuitem, new() { Name = "Edit" })).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"events-menu-open-{size}").WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Escape").WaitAsync(Slow, Ct);
        await Expect(menu).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await Expect(more).ToBeFocusedAsync().WaitAsync(Slow, Ct);

        // Edit inline: Enter saves; everyone sees the new text marked edited.
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        var editor = bob.Page.GetByLabel("Edit message");
        await editor.FillAsync("the plan").WaitAsync(Slow, Ct);
        await editor.PressAsync("Enter").WaitAsync(Slow, Ct);
        foreach (var who in new[] { bob, carol })
        {
            await Expect(who.MessageText("the plan")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
            await Expect(who.Log.Locator(".msg .edited:visible")).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        }

        // An editor left with Escape changes nothing.
        await more.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await editor.FillAsync("never saved").WaitAsync(Slow, Ct);
        await editor.PressAsync("Escape").WaitAsync(Slow, Ct);
        await Expect(editor).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("the plan")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // React through the menu's picker, searching by short name; carol adds hers with a click on the chip.
        await more.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await menu.GetByRole(AriaRole.Menuitem, new() { Name = "React" }).ClickAsync().WaitAsync(Slow, Ct);
        await bob.Page.GetByLabel("Search emoji").FillAsync("fire").WaitAsync(Slow, Ct);
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "React with fire" }).ClickAsync().WaitAsync(Slow, Ct);
        var carolsChip = carol.Log.GetByRole(AriaRole.Button, new() { Name = "🔥 1, by bob" });
        await carolsChip.ClickAsync().WaitAsync(Slow, Ct);
        var both = bob.Log.GetByRole(AriaRole.Button, new() { Name = "🔥 2, by you, carol" });
        await Expect(both).ToHaveAttributeAsync("aria-pressed", "true").WaitAsync(Slow, Ct);
        await Expect(carol.Log.GetByRole(AriaRole.Button, new() { Name = "🔥 2, by bob, you" })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"events-reactions-{size}").WaitAsync(Slow, Ct);
        await both.ClickAsync().WaitAsync(Slow, Ct);
        await Expect(carol.Log.GetByRole(AriaRole.Button, new() { Name = "🔥 1, by you" })).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Delete asks first; Cancel keeps the message, Delete replaces it with a placeholder for both.
        var last = bob.Log.Locator(".msg[data-seq]").Last;
        var lastMore = last.GetByRole(AriaRole.Button, new() { Name = "More actions" });
        await lastMore.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("ArrowDown").WaitAsync(Slow, Ct);
        await Expect(menu.GetByRole(AriaRole.Menuitem, new() { Name = "Delete" })).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        var dialog = bob.Page.GetByRole(AriaRole.Dialog, new() { Name = "Delete message" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("a message to delete")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await lastMore.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        await menu.GetByRole(AriaRole.Menuitem, new() { Name = "Delete" }).ClickAsync().WaitAsync(Slow, Ct);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync().WaitAsync(Slow, Ct);
        foreach (var who in new[] { bob, carol })
        {
            await Expect(who.Log.Locator(".msg.deleted .text")).ToHaveTextAsync("message deleted").WaitAsync(Slow, Ct);
            await Expect(who.Log).Not.ToContainTextAsync("a message to delete").WaitAsync(Slow, Ct);
        }
        await bob.ScreenshotAsync($"events-edited-deleted-{size}").WaitAsync(Slow, Ct);

        // Someone else's message offers no Edit or Delete.
        var carolsMore = carol.Log.Locator(".msg[data-seq]").First.GetByRole(AriaRole.Button, new() { Name = "More actions" });
        await carolsMore.FocusAsync().WaitAsync(Slow, Ct);
        await carol.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        var carolsMenu = carol.Page.GetByRole(AriaRole.Menu, new() { Name = "Message actions" });
        await Expect(carolsMenu.GetByRole(AriaRole.Menuitem)).ToHaveTextAsync(["Reply", "React", "Copy link"]).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    static async Task SendAsync(TestUser user, HttpMethod method, string path, object body)
    {
        using var http = user.Http();
        using var r = await http.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) }, Ct);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }
}
