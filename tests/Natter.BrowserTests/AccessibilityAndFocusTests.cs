using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Focus, headings, names, right-to-left text, message times and waits, as a keyboard or screen reader user meets them.</summary>
public sealed partial class AccessibilityAndFocusTests(BrowserFixture browser) : BrowserTest(browser)
{
    const string FocusInChat =
        "() => document.activeElement !== document.body && document.getElementById('chat-view').contains(document.activeElement) && document.activeElement.checkVisibility()";

    [Fact]
    public async Task FocusLandsInTheChatAfterRegisterAndLoginAndStaysInTheMessageBoxAfterSend()
    {
        var alice = await UserAsync("alice");
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        Assert.True(await alice.Page.EvaluateAsync<bool>(FocusInChat).WaitAsync(Slow, Ct), "focus after register");

        await alice.CreateRoomAsync("focus").WaitAsync(Slow, Ct);
        var box = alice.Page.GetByLabel("Message", new() { Exact = true });
        await Expect(box).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await box.FillAsync("sent with the mouse").WaitAsync(Slow, Ct);
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(alice.MessageText("sent with the mouse")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(box).ToBeFocusedAsync().WaitAsync(Slow, Ct);

        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Log out", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(alice.Page.GetByLabel("Username", new() { Exact = true })).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await alice.LogInAsync().WaitAsync(Slow, Ct);
        Assert.True(await alice.Page.EvaluateAsync<bool>(FocusInChat).WaitAsync(Slow, Ct), "focus after login");

        // On a phone the list is its own screen: focus lands on something there, not on the hidden room pane.
        var bob = await UserAsync("bob", ChatUser.Phone);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        Assert.True(await bob.Page.EvaluateAsync<bool>(FocusInChat).WaitAsync(Slow, Ct), "focus after register on a phone");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task ChatViewsWithSomeoneOnlineHaveNoSeriousViolationsAndThePhoneRoomViewHasALevelOneHeading()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob", ChatUser.Phone);
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await alice.CreateRoomAsync("together").WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("together").WaitAsync(Slow, Ct);
        await Expect(alice.Page.GetByRole(AriaRole.List, new() { Name = "Online users" }).GetByText("bob", new() { Exact = true }))
            .ToBeVisibleAsync(new() { Timeout = 20_000 }).WaitAsync(Slow, Ct);
        await bob.SendAsync("Hello from the phone").WaitAsync(Slow, Ct);
        await Expect(alice.MessageText("Hello from the phone")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        foreach (var (user, view) in new[] { (alice, "desktop chat with someone online"), (bob, "phone room view") })
        {
            var violations = await AxeAsync(user, view).WaitAsync(Slow, Ct);
            Assert.DoesNotContain(violations, v => v.Impact is "serious" or "critical" || v.Id == "page-has-heading-one");
            await Expect(user.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        }
        await Expect(bob.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("# together").WaitAsync(Slow, Ct);
        await alice.ScreenshotAsync("chat-desktop-someone-online").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("chat-phone-room").WaitAsync(Slow, Ct);

        // The phone's list screen has its own level-one heading, and focus returns to the room just left.
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Back to rooms" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Natter").WaitAsync(Slow, Ct);
        await Expect(bob.RoomButton("together")).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("chat-phone-list").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task RightToLeftTextRunsRightToLeftAndAGroupedMessageShowsItsTimeOnHoverAndFocus()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await alice.CreateRoomAsync("שיחה").WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("שיחה").WaitAsync(Slow, Ct);
        await alice.SendAsync("Good morning, everyone").WaitAsync(Slow, Ct);
        await alice.SendAsync("שלום לכולם, מה נשמע?").WaitAsync(Slow, Ct);
        await alice.SendAsync("مرحبا بالجميع").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("مرحبا بالجميع")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        foreach (var text in new[] { "שלום לכולם, מה נשמע?", "مرحبا بالجميع" })
        {
            Assert.True(await bob.MessageText(text).EvaluateAsync<bool>("e => e.matches(':dir(rtl)')").WaitAsync(Slow, Ct), text);
        }
        Assert.False(await bob.MessageText("Good morning, everyone").EvaluateAsync<bool>("e => e.matches(':dir(rtl)')").WaitAsync(Slow, Ct));
        Assert.True(await bob.RoomButton("שיחה").Locator(".room-name").EvaluateAsync<bool>("e => e.matches(':dir(rtl)')").WaitAsync(Slow, Ct));
        Assert.True(await bob.Page.Locator("#room-title bdi").EvaluateAsync<bool>("e => e.matches(':dir(rtl)')").WaitAsync(Slow, Ct));
        Assert.Equal("auto", await bob.Log.Locator(".msg .author").First.GetAttributeAsync("dir").WaitAsync(Slow, Ct));

        // The second and third messages are grouped under the first: their time shows on hover and on focus.
        var grouped = bob.Log.Locator(".msg.cont");
        await Expect(grouped).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await Expect(grouped.Nth(0).Locator("time")).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        await grouped.Nth(0).HoverAsync().WaitAsync(Slow, Ct);
        await Expect(grouped.Nth(0).Locator("time")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await bob.Log.FocusAsync().WaitAsync(Slow, Ct);
        await bob.Page.Mouse.MoveAsync(0, 0).WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("ArrowUp").WaitAsync(Slow, Ct);
        await Expect(grouped.Nth(1)).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await Expect(grouped.Nth(1).Locator("time")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(grouped.Nth(0).Locator("time")).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("chat-desktop-rtl-and-grouped").WaitAsync(Slow, Ct);
        var own = alice.Log.Locator(".msg.cont").Last;
        await own.HoverAsync().WaitAsync(Slow, Ct);
        await Expect(own.Locator("time")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await alice.ScreenshotAsync("chat-desktop-own-grouped-hover").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AThrottledLoginSaysHowLongToWaitInWords()
    {
        await TestUser.RegisterAsync(Host.BaseUri, "judy", ChatUser.Password).WaitAsync(Slow, Ct);
        var ivan = await UserAsync("ivan");
        await ivan.Page.GetByLabel("Username", new() { Exact = true }).FillAsync("judy").WaitAsync(Slow, Ct);
        await ivan.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("not her password").WaitAsync(Slow, Ct);
        var logIn = ivan.Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true });
        var alert = ivan.Page.GetByRole(AriaRole.Alert);
        for (var i = 0; i < 12 && !(await alert.TextContentAsync().WaitAsync(Slow, Ct) ?? "").Contains("Too many", StringComparison.Ordinal); i++)
        {
            await logIn.ClickAsync().WaitAsync(Slow, Ct);
            await Expect(logIn).ToBeEnabledAsync().WaitAsync(Slow, Ct);
        }
        // The server's Retry-After is about 300 seconds: the page says "in 5 minutes", not "in 297 s".
        await Expect(alert).ToHaveTextAsync(MinutesWait()).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [GeneratedRegex(@"^Too many[^.;]*\. Try again in [1-5] minutes?\.$")]
    private static partial Regex MinutesWait();
}
