using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>The profile and account page, blocking, and the admin page (protocol v2 §5) as people use them.</summary>
public sealed class AccountPagesTests(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>The online list is asked again every 10 s; a changed name shows with the next answer.</summary>
    static readonly LocatorAssertionsToBeVisibleOptions Soon = new() { Timeout = 25_000 };

    protected override IReadOnlyList<string> ServerSettings => ["Natter:Admins:0=boss"];

    static string ShotDir
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("NATTER_SHOTS_ACCOUNTS") is { Length: > 0 } d ? d : ChatUser.ArtifactDir;
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    static async Task ShotAsync(ChatUser user, string name) =>
        await user.Page.ScreenshotAsync(new() { Path = Path.Combine(ShotDir, $"{name}.png"), Timeout = 15_000 }).WaitAsync(Slow, Ct);

    static ILocator Dialog(ChatUser user, string name) => user.Page.GetByRole(AriaRole.Dialog, new() { Name = name });

    /// <summary>A browser of its own, registered as this user (and so signed in).</summary>
    async Task<ChatUser> RegisteredAsync(string name)
    {
        var user = await UserAsync(name);
        await user.RegisterAsync().WaitAsync(Slow, Ct);
        return user;
    }

    /// <summary>alice and bob, registered, both in alice's room "tea".</summary>
    async Task<(ChatUser Alice, ChatUser Bob)> AliceAndBobInTeaAsync()
    {
        var alice = await RegisteredAsync("alice");
        var bob = await RegisteredAsync("bob");
        await alice.CreateRoomAsync("tea").WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("tea").WaitAsync(Slow, Ct);
        return (alice, bob);
    }

    /// <summary>Opens the profile and account dialog with the user's own button; the dialog.</summary>
    static async Task<ILocator> OpenAccountAsync(ChatUser user)
    {
        await user.Page.GetByRole(AriaRole.Button, new() { NameRegex = new("Profile and account$") }).ClickAsync().WaitAsync(Slow, Ct);
        return Dialog(user, "Profile and account");
    }

    static async Task AssertNoSeriousAxeAsync(ChatUser user, string view)
    {
        var serious = (await AxeAsync(user, view)).Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"axe on {view}: {string.Join(", ", serious.Select(v => v.Id))}");
    }

    [Fact]
    public async Task A_display_name_changed_on_the_profile_page_is_what_another_user_sees()
    {
        var (alice, bob) = await AliceAndBobInTeaAsync();

        var account = await OpenAccountAsync(alice);
        await Expect(account).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var nameBox = account.GetByLabel("Display name");
        await Expect(nameBox).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await Expect(nameBox).ToHaveValueAsync("alice").WaitAsync(Slow, Ct);
        await Expect(account.GetByText("This device")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await nameBox.FillAsync("Alice Liddell");
        await nameBox.PressAsync("Enter");
        await Expect(alice.Page.Locator("#me-name")).ToHaveTextAsync("Alice Liddell").WaitAsync(Slow, Ct);
        await Expect(account.Locator("#profile-avatar")).ToHaveTextAsync("AL").WaitAsync(Slow, Ct);
        await ShotAsync(alice, "profile-desktop");
        await AssertNoSeriousAxeAsync(alice, "profile dialog");
        await alice.Page.SetViewportSizeAsync(ChatUser.Phone.Width, ChatUser.Phone.Height).WaitAsync(Slow, Ct);
        await ShotAsync(alice, "profile-phone");
        await alice.Page.SetViewportSizeAsync(ChatUser.Desktop.Width, ChatUser.Desktop.Height).WaitAsync(Slow, Ct);
        await alice.Page.Keyboard.PressAsync("Escape").WaitAsync(Slow, Ct);
        await Expect(account).ToBeHiddenAsync().WaitAsync(Slow, Ct);

        // Bob sees the new name (with the username beside it) in the online list, and on alice's next message.
        var online = bob.Page.GetByRole(AriaRole.List, new() { Name = "Online users" });
        await Expect(online.GetByText("Alice Liddell (@alice)", new() { Exact = true })).ToBeVisibleAsync(Soon).WaitAsync(Slow, Ct);
        await alice.SendAsync("the kettle is on").WaitAsync(Slow, Ct);
        var message = bob.Log.Locator(".msg").Filter(new() { HasText = "the kettle is on" });
        await Expect(message.Locator(".author")).ToHaveTextAsync("Alice Liddell").WaitAsync(Slow, Ct);
        await Expect(message.Locator(".author")).ToHaveAttributeAsync("title", "@alice").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_picture_uploaded_on_the_profile_page_is_the_avatar_another_user_sees_until_it_is_removed()
    {
        var (alice, bob) = await AliceAndBobInTeaAsync();

        var account = await OpenAccountAsync(alice);
        await Expect(account.GetByRole(AriaRole.Button, new() { Name = "Remove picture" })).ToBeHiddenAsync().WaitAsync(Slow, Ct);

        // A file that is not an image is refused with the server's reason, and nothing changes.
        await alice.Page.Locator("#avatar-file").SetInputFilesAsync(new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = "not a picture"u8.ToArray() }).WaitAsync(Slow, Ct);
        await Expect(account.Locator("#profile-error")).ToContainTextAsync("Picture not saved").WaitAsync(Slow, Ct);
        await Expect(account.Locator("#profile-avatar")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-image")).WaitAsync(Slow, Ct);

        await alice.Page.Locator("#avatar-file").SetInputFilesAsync(new FilePayload { Name = "me.png", MimeType = "image/png", Buffer = TestImages.Make(96, 96) }).WaitAsync(Slow, Ct);
        await Expect(account.Locator("#profile-avatar")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-image")).WaitAsync(Slow, Ct);
        await Expect(account.GetByText("Your picture is shown to others.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await ShotAsync(alice, "profile-picture-desktop");

        // Bob's online list shows the picture with its next refresh (every 10 s).
        var online = bob.Page.GetByRole(AriaRole.List, new() { Name = "Online users" });
        await Expect(online.Locator(".avatar.has-image")).ToHaveCountAsync(1, new() { Timeout = 25_000 }).WaitAsync(Slow, Ct);

        // Any signed-in user may fetch the picture (it is alice's avatar); bob's page asks for it.
        var url = await alice.Page.EvaluateAsync<string>("() => getComputedStyle(document.getElementById('profile-avatar')).backgroundImage.slice(5, -2)");
        Assert.Equal(200, await bob.Page.EvaluateAsync<int>("async u => (await fetch(u)).status", url));

        await account.GetByRole(AriaRole.Button, new() { Name = "Remove picture" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(account.GetByText("No picture: others see your initials.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(account.Locator("#profile-avatar")).ToHaveTextAsync("AL").WaitAsync(Slow, Ct);
        await Expect(account.Locator("#profile-avatar")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-image")).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_password_changed_on_the_account_page_signs_out_the_other_browser()
    {
        var alice = await RegisteredAsync("alice");
        var laptop = await UserAsync("alice");
        await laptop.LogInAsync().WaitAsync(Slow, Ct);

        var account = await OpenAccountAsync(alice);
        await Expect(account.GetByRole(AriaRole.Button, new() { NameRegex = new("^Log out this device") })).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await account.GetByLabel("Current password").FillAsync(ChatUser.Password);
        await account.GetByLabel("New password").FillAsync("a brand new password");
        await account.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(account.GetByText("Password changed. Every other device was signed out.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await Expect(laptop.Page.GetByText("You were logged out. Log in again to continue.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(account.GetByRole(AriaRole.Button, new() { NameRegex = new("^Log out this device") })).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task Blocking_from_the_direct_message_header_asks_first_and_lists_the_user_under_blocked_users()
    {
        var alice = await RegisteredAsync("alice");
        var mallory = await RegisteredAsync("mallory");
        await alice.StartDirectMessageAsync("mallory").WaitAsync(Slow, Ct);

        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Block mallory" }).ClickAsync().WaitAsync(Slow, Ct);
        var confirm = Dialog(alice, "Block mallory?");
        await Expect(confirm).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(confirm.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Block", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(alice.Page.GetByRole(AriaRole.Button, new() { Name = "Unblock mallory" }).First).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        var blocked = (await OpenAccountAsync(alice)).GetByRole(AriaRole.List, new() { Name = "Blocked users" });
        await Expect(blocked.GetByText("@mallory")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task An_admin_disables_an_account_after_confirming_and_that_users_page_shows_they_are_signed_out()
    {
        var carol = await RegisteredAsync("carol");
        var boss = await RegisteredAsync("boss");
        await Expect(carol.Page.GetByRole(AriaRole.Button, new() { Name = "Admin" })).ToBeHiddenAsync().WaitAsync(Slow, Ct);

        await boss.Page.GetByRole(AriaRole.Button, new() { Name = "Admin", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        var admin = Dialog(boss, "Administration");
        await Expect(admin).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var search = admin.GetByLabel("Find users by username or display name");
        await Expect(search).ToBeFocusedAsync().WaitAsync(Slow, Ct);
        await Expect(admin.GetByText("2 users found.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await search.FillAsync("car");
        await search.PressAsync("Enter");
        await Expect(admin.GetByText("1 user found.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await ShotAsync(boss, "admin-desktop");
        await AssertNoSeriousAxeAsync(boss, "admin dialog");

        await admin.GetByRole(AriaRole.Button, new() { Name = "Disable carol" }).ClickAsync().WaitAsync(Slow, Ct);
        var confirm = Dialog(boss, "Disable carol?");
        await Expect(confirm).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await AssertNoSeriousAxeAsync(boss, "confirm dialog");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Disable account" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(admin.GetByText("Disabled", new() { Exact = true })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(admin.GetByRole(AriaRole.Button, new() { Name = "Enable carol" })).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await Expect(carol.Page.GetByText("Your account was disabled by an administrator, so you were signed out.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(carol.Page.GetByLabel("Username", new() { Exact = true })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await carol.Page.GetByLabel("Username", new() { Exact = true }).FillAsync("carol");
        await carol.Page.GetByLabel("Password", new() { Exact = true }).FillAsync(ChatUser.Password);
        await carol.Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(carol.Page.GetByText("This account is disabled.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await boss.Page.SetViewportSizeAsync(ChatUser.Phone.Width, ChatUser.Phone.Height).WaitAsync(Slow, Ct);
        await ShotAsync(boss, "admin-phone");
        AssertNoPageErrors();
    }
}
