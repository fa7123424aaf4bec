using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>News the user is not looking at: system notifications, the title count, the phone's back arrow badge.</summary>
public sealed class NotificationTests(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>
    /// Records every notification the page makes (the real Notification is still constructed), and lets the test
    /// say whether the page is hidden: headless Chromium has no other window to put in front of it.
    /// </summary>
    const string Recorder = """
        (() => {
          const Real = window.Notification;
          window.__notes = [];
          class Recorded extends Real {
            constructor(title, options) {
              super(title, options);
              window.__notes.push({ title, body: options?.body ?? '' });
            }
          }
          Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
          Recorded.requestPermission = (...a) => Real.requestPermission(...a);
          window.Notification = Recorded;
          let hidden = false;
          Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') });
          Object.defineProperty(document, 'hidden', { get: () => hidden });
          window.__setHidden = (h) => { hidden = h; document.dispatchEvent(new Event('visibilitychange')); };
        })();
        """;

    [Fact]
    public async Task AMentionAndADirectMessageWhileTheTabIsHiddenNotifyAndTheTitleCounts()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("ops").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob", options: o => o.Permissions = ["notifications"]);
        await bob.Context.AddInitScriptAsync(Recorder).WaitAsync(Slow, Ct);
        var tap = await SocketTap.AttachAsync(bob.Page).WaitAsync(Slow, Ct);
        await bob.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("ops").WaitAsync(Slow, Ct);

        // Permission granted, not switched off: the bell is on.
        var bell = bob.Page.GetByRole(AriaRole.Button, new() { Name = "Notifications" });
        await Expect(bell).ToHaveAttributeAsync("aria-pressed", "true").WaitAsync(Slow, Ct);

        // While bob looks at the room nothing is notified.
        await alice.PostMessageAsync(roomId, "@bob are you there?").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("@bob are you there?")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page).ToHaveTitleAsync("Natter").WaitAsync(Slow, Ct);

        // Hidden: a plain message counts in the title only; a mention and a direct message notify too.
        await bob.Page.EvaluateAsync("window.__setHidden(true)").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(roomId, "just chatting").WaitAsync(Slow, Ct);
        await Expect(bob.Page).ToHaveTitleAsync("(1) Natter").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(roomId, "@bob the deploy is stuck, can you look?").WaitAsync(Slow, Ct);
        await Expect(bob.Page).ToHaveTitleAsync("(2) Natter").WaitAsync(Slow, Ct);
        // A new direct conversation whose first message reaches bob before anything else says what the room is:
        // its room frame is lost on the way and his room list comes late, as on a bad network (in CI the message
        // once simply came first). The notification waits for the list; it is not lost.
        tap.DropFromServer(f => f.GetProperty("type").GetString() == "room");
        await bob.Page.RouteAsync("**/api/rooms", async route =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(700), Ct);
            await route.ContinueAsync();
        }).WaitAsync(Slow, Ct);
        var dm = await DirectAsync(alice, "bob").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(dm, "ping me when you are back").WaitAsync(Slow, Ct);
        await Expect(bob.Page).ToHaveTitleAsync("(3) Natter").WaitAsync(Slow, Ct);
        await Wait.UntilAsync(async () => (await NotesAsync(bob)).Count == 2, "the direct message's notification", cancellationToken: Ct);
        var notes = await NotesAsync(bob).WaitAsync(Slow, Ct);
        Assert.Equal([("alice in #ops", "@bob the deploy is stuck, can you look?"), ("alice", "ping me when you are back")], notes);
        await bob.Page.UnrouteAsync("**/api/rooms").WaitAsync(Slow, Ct);
        tap.DropFromServer(null);

        // Back: the open room is read, the title counts only the other room.
        await bob.Page.EvaluateAsync("window.__setHidden(false)").WaitAsync(Slow, Ct);
        await Expect(bob.Page).ToHaveTitleAsync("(1) Natter").WaitAsync(Slow, Ct);

        // Switched off with the bell (kept across a reload): no more notifications.
        await bell.ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bell).ToHaveAttributeAsync("aria-pressed", "false").WaitAsync(Slow, Ct);
        await bob.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await Expect(bob.ConnectionStatus).ToHaveTextAsync("Connected").WaitAsync(Slow, Ct);
        await Expect(bell).ToHaveAttributeAsync("aria-pressed", "false").WaitAsync(Slow, Ct);
        await bob.Page.EvaluateAsync("window.__setHidden(true)").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(roomId, "@bob once more").WaitAsync(Slow, Ct);
        await Expect(bob.Page).ToHaveTitleAsync(new System.Text.RegularExpressions.Regex(@"^\(\d+\) Natter$")).WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(dm, "and a direct one").WaitAsync(Slow, Ct);
        await Expect(bob.RoomButton("alice")).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("^alice, 2 unread")).WaitAsync(Slow, Ct);
        Assert.Empty(await NotesAsync(bob).WaitAsync(Slow, Ct));

        // On again with a click (the browser already allows it).
        await bob.Page.EvaluateAsync("window.__setHidden(false)").WaitAsync(Slow, Ct);
        await bell.ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bell).ToHaveAttributeAsync("aria-pressed", "true").WaitAsync(Slow, Ct);
        await bob.Page.EvaluateAsync("window.__setHidden(true)").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(dm, "third time").WaitAsync(Slow, Ct);
        await Wait.UntilAsync(async () => (await NotesAsync(bob)).Count == 1, "a notification once on again", cancellationToken: Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task OnAPhoneTheBackArrowShowsHowManyOtherRoomsHaveNews()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var one = await alice.CreateRoomAsync("one").WaitAsync(Slow, Ct);
        var two = await alice.CreateRoomAsync("two").WaitAsync(Slow, Ct);
        var three = await alice.CreateRoomAsync("three").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob", ChatUser.Phone);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        foreach (var name in new[] { "two", "three", "one" }) await bob.JoinPublicRoomAsync(name).WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(one, "in the room bob reads").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("in the room bob reads")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        var back = bob.Page.Locator("#back-button");
        var badge = back.Locator(".back-badge");
        await Expect(badge).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        await Expect(back).ToHaveAccessibleNameAsync("Back to rooms").WaitAsync(Slow, Ct);

        await alice.PostMessageAsync(two, "news elsewhere").WaitAsync(Slow, Ct);
        await Expect(badge).ToHaveTextAsync("1").WaitAsync(Slow, Ct);
        await Expect(back).ToHaveAccessibleNameAsync("Back to rooms, 1 room has new messages").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(three, "@bob and here").WaitAsync(Slow, Ct);
        await Expect(badge).ToHaveTextAsync("2").WaitAsync(Slow, Ct);
        await Expect(badge).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("mention")).WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("news-back-badge-phone").WaitAsync(Slow, Ct);

        // Reading one of them takes it off the count.
        await bob.OpenRoomAsync("two").WaitAsync(Slow, Ct);
        await Expect(badge).ToHaveTextAsync("1").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    static async Task<List<(string, string)>> NotesAsync(ChatUser user)
    {
        var json = await user.Page.EvaluateAsync<JsonElement>("window.__notes");
        return [.. json.EnumerateArray().Select(n => (n.GetProperty("title").GetString()!, n.GetProperty("body").GetString()!))];
    }

    static async Task<string> DirectAsync(TestUser user, string other)
    {
        using var http = user.Http();
        using var r = await http.PostAsync("/api/direct", JsonContent.Create(new { username = other }), Ct);
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }
}
