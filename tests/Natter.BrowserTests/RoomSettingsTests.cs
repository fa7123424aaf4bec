using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Rooms with owners in the browser: the member list, the settings dialog, and a kick seen from both sides.</summary>
public sealed class RoomSettingsTests(BrowserFixture browser) : BrowserTest(browser), IClassFixture<BrowserFixture>
{
    private static ILocator Dialog(ChatUser u, string name) => u.Page.GetByRole(AriaRole.Dialog, new() { Name = name, Exact = true });

    [Fact]
    public async Task The_owner_changes_the_topic_and_a_role_in_room_settings_and_the_member_sees_both()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob", ChatUser.Phone);
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await alice.CreateRoomAsync("garden").WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("garden").WaitAsync(Slow, Ct);

        // The header counts the members; the count opens the member list.
        var count = alice.Page.Locator("#members-button");
        await Expect(count).ToHaveAccessibleNameAsync("2 members: show the member list").WaitAsync(Slow, Ct);
        await count.ClickAsync().WaitAsync(Slow, Ct);
        var members = Dialog(alice, "Members of #garden");
        await Expect(members.GetByRole(AriaRole.Listitem)).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await Expect(members.GetByRole(AriaRole.Listitem).First).ToContainTextAsync("Owner").WaitAsync(Slow, Ct);
        await alice.ScreenshotAsync("rooms-member-list-desktop").WaitAsync(Slow, Ct);
        await alice.Page.Keyboard.PressAsync("Escape").WaitAsync(Slow, Ct);
        await Expect(members).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        await Expect(count).ToBeFocusedAsync().WaitAsync(Slow, Ct);

        // Settings by keyboard: the button, then the topic field, then Save.
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Room settings", Exact = true }).FocusAsync().WaitAsync(Slow, Ct);
        await alice.Page.Keyboard.PressAsync("Enter").WaitAsync(Slow, Ct);
        var settings = Dialog(alice, "Room settings");
        await Expect(settings).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(settings.GetByRole(AriaRole.Button, new() { Name = "Make moderator: bob" })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await settings.GetByLabel("Topic").FillAsync("Seeds, soil and sunshine").WaitAsync(Slow, Ct);
        await settings.GetByLabel("Topic").PressAsync("Enter").WaitAsync(Slow, Ct);
        await Expect(alice.Page.Locator("#room-sub")).ToHaveTextAsync("Seeds, soil and sunshine").WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#room-sub")).ToHaveTextAsync("Seeds, soil and sunshine").WaitAsync(Slow, Ct);

        await settings.GetByRole(AriaRole.Button, new() { Name = "Make moderator: bob" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(settings.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "bob" })).ToContainTextAsync("Moderator").WaitAsync(Slow, Ct);
        var violations = await AxeAsync(alice, "room settings desktop").WaitAsync(Slow, Ct);
        Assert.DoesNotContain(violations, v => v.Impact is "serious" or "critical");
        await alice.ScreenshotAsync("rooms-settings-desktop").WaitAsync(Slow, Ct);
        await settings.GetByRole(AriaRole.Button, new() { Name = "Ban bob" }).ScrollIntoViewIfNeededAsync().WaitAsync(Slow, Ct);
        await alice.ScreenshotAsync("rooms-settings-members-desktop").WaitAsync(Slow, Ct);

        // Bob, now a moderator, sees the settings on his phone: he may edit them but not delete the room.
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Room settings", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        var bobSettings = Dialog(bob, "Room settings");
        await Expect(bobSettings.GetByLabel("Topic")).ToHaveValueAsync("Seeds, soil and sunshine").WaitAsync(Slow, Ct);
        await Expect(bobSettings.GetByRole(AriaRole.Button, new() { Name = "Delete room" })).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        await Expect(bobSettings.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "alice" })).ToContainTextAsync("Owner").WaitAsync(Slow, Ct);
        violations = await AxeAsync(bob, "room settings phone").WaitAsync(Slow, Ct);
        Assert.DoesNotContain(violations, v => v.Impact is "serious" or "critical");
        await bob.ScreenshotAsync("rooms-settings-phone").WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Escape").WaitAsync(Slow, Ct);
        await bob.Page.Locator("#members-button").ClickAsync().WaitAsync(Slow, Ct);
        await Expect(Dialog(bob, "Members of #garden").GetByRole(AriaRole.Listitem)).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("rooms-member-list-phone").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_kick_asks_for_confirmation_and_the_kicked_member_loses_the_room_at_once()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await alice.CreateRoomAsync("garden").WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("garden").WaitAsync(Slow, Ct);
        await bob.SendAsync("hello all").WaitAsync(Slow, Ct);
        await Expect(alice.MessageText("hello all")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Room settings", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        var settings = Dialog(alice, "Room settings");
        await settings.GetByRole(AriaRole.Button, new() { Name = "Kick bob" }).ClickAsync().WaitAsync(Slow, Ct);

        // The confirmation: Cancel is where focus starts, so Enter alone does nothing destructive.
        var confirm = Dialog(alice, "Kick bob?");
        await Expect(confirm).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(confirm.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await alice.ScreenshotAsync("rooms-kick-confirm-desktop").WaitAsync(Slow, Ct);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(settings.GetByRole(AriaRole.Listitem)).ToHaveCountAsync(2).WaitAsync(Slow, Ct);

        await settings.GetByRole(AriaRole.Button, new() { Name = "Kick bob" }).ClickAsync().WaitAsync(Slow, Ct);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Kick", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(settings.GetByRole(AriaRole.Listitem)).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        await Expect(alice.Page.Locator("#members-count")).ToHaveTextAsync("1").WaitAsync(Slow, Ct);

        // Bob's view: the room is gone from his list and his screen, and he is told why.
        await Expect(bob.RoomButton("garden")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#room-title")).ToHaveTextAsync("Welcome").WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#toast")).ToContainTextAsync("You were removed from #garden").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("rooms-kicked-desktop").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_private_room_made_in_the_browser_is_not_listed_and_an_invited_user_sees_it_appear()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "New room", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await alice.Page.GetByLabel("Room name").FillAsync("hideout").WaitAsync(Slow, Ct);
        await alice.Page.GetByLabel("Private: only people invited by you or a moderator can join").CheckAsync().WaitAsync(Slow, Ct);
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(alice.Page.Locator("#room-sub")).ToHaveTextAsync("Group room · Private").WaitAsync(Slow, Ct);

        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Browse rooms", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Page.Locator("#public-empty")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await bob.Page.Keyboard.PressAsync("Escape").WaitAsync(Slow, Ct);

        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Room settings", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        var settings = Dialog(alice, "Room settings");
        await settings.GetByLabel("Username to invite").FillAsync("bob").WaitAsync(Slow, Ct);
        await settings.GetByLabel("Username to invite").PressAsync("Enter").WaitAsync(Slow, Ct);
        await Expect(settings.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "bob" })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(bob.RoomButton("hideout")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }
}
