using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>A phone with a touch screen: holding a finger on a message opens its menu.</summary>
public sealed class TouchTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task ALongPressOnAMessageOpensItsMenuAndATapOrASwipeDoesNot()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("pocket").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(roomId, "hold this message to answer it").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob", ChatUser.Phone, o =>
        {
            o.HasTouch = true;
            o.IsMobile = true;
        });
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("pocket").WaitAsync(Slow, Ct);
        var text = bob.MessageText("hold this message to answer it");
        await Expect(text).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var menu = bob.Page.GetByRole(AriaRole.Menu, new() { Name = "Message actions" });
        var cdp = await bob.Context.NewCDPSessionAsync(bob.Page).WaitAsync(Slow, Ct);
        var box = (await text.BoundingBoxAsync().WaitAsync(Slow, Ct))!;
        var (x, y) = (box.X + box.Width / 2, box.Y + box.Height / 2);

        // A tap is a tap.
        await bob.Page.Touchscreen.TapAsync(x, y).WaitAsync(Slow, Ct);
        await Expect(menu).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        // A finger that moves (a scroll) opens nothing, however long it stays.
        await TouchAsync(cdp, "touchStart", x, y);
        await TouchAsync(cdp, "touchMove", x, y - 40);
        await Task.Delay(900, Ct);
        await TouchAsync(cdp, "touchEnd", x, y - 40);
        await Expect(menu).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        // Held still: the menu opens, and stays open when the finger lifts.
        await TouchAsync(cdp, "touchStart", x, y);
        await Expect(menu).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await TouchAsync(cdp, "touchEnd", x, y);
        await Expect(menu.GetByRole(AriaRole.Menuitem)).ToHaveTextAsync(["Reply", "React", "Copy link"]).WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("events-menu-longpress-phone").WaitAsync(Slow, Ct);
        await menu.GetByRole(AriaRole.Menuitem, new() { Name = "Reply" }).TapAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#reply-bar")).ToContainTextAsync("Replying to alice").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    static async Task TouchAsync(ICDPSession cdp, string type, float x, float y) =>
        await cdp.SendAsync("Input.dispatchTouchEvent", new Dictionary<string, object>
        {
            ["type"] = type,
            ["touchPoints"] = type == "touchEnd" ? Array.Empty<object>() : new object[] { new Dictionary<string, object> { ["x"] = x, ["y"] = y } },
        }).WaitAsync(TimeSpan.FromSeconds(10), Ct);
}
