using System.Diagnostics;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>
/// The browser client, served by a real server, driven in headless chromium. Each test has its own
/// server and database. The tests share one collection so they run one after another: the machine
/// is small and a chromium per test in parallel makes timings flaky.
/// </summary>
public sealed class BrowserChatTests(BrowserFixture browser) : IAsyncLifetime
{
    static readonly TimeSpan Slow = TimeSpan.FromSeconds(30);
    readonly List<ChatUser> _users = [];
    TestServer? _host;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    TestServer Host => _host ?? throw new InvalidOperationException("no host");

    public async ValueTask InitializeAsync()
    {
        browser.RequireBrowser();
        SetDefaultExpectTimeout(10_000);
        _host = await TestServer.StartAsync(new ServerOptions { WebRoot = ServerOptions.SourceWebRoot });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var u in _users) await u.DisposeAsync();
        if (_host is not null) await _host.DisposeAsync();
    }

    /// <summary>Replaces this test's server with one started with these "Section:Key=value" settings.</summary>
    async Task UseHostAsync(params string[] settings)
    {
        await Host.DisposeAsync();
        _host = null;
        _host = await TestServer.StartAsync(new ServerOptions { WebRoot = ServerOptions.SourceWebRoot, Settings = settings }).WaitAsync(Slow, Ct);
    }

    async Task<ChatUser> UserAsync(string name, ViewportSize? viewport = null)
    {
        var u = await ChatUser.OpenAsync(browser, Host, name, viewport).WaitAsync(Slow, Ct);
        _users.Add(u);
        return u;
    }

    /// <summary>Ends a test: no uncaught script error in any page, no error logged by the server.</summary>
    void AssertNoPageErrors()
    {
        foreach (var u in _users) u.AssertNoPageErrors();
        Host.Errors.AssertNone();
    }

    [Fact]
    public async Task TwoUsersChatBothWaysInARoomAndADirectMessageReachesTheReceiverWithoutReload()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob", ChatUser.Phone);
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);

        await alice.CreateRoomAsync("lounge").WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("lounge").WaitAsync(Slow, Ct);

        await alice.SendAsync("Hi Bob! Welcome to the lounge.").WaitAsync(Slow, Ct);
        // Shown at once, then acked: the bubble gets its seq and loses the pending mark.
        await Expect(alice.Log.Locator(".msg.pending")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("Hi Bob! Welcome to the lounge.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await bob.SendAsync("Hey Alice, glad to be here — café’s open").WaitAsync(Slow, Ct);
        await Expect(alice.MessageText("Hey Alice, glad to be here — café’s open")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await alice.SendAsync("Line one\nand line two").WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator(".msg .text").Last).ToHaveTextAsync("Line one\nand line two").WaitAsync(Slow, Ct);

        // Bob is typing: Alice sees it.
        await bob.Page.GetByLabel("Message", new() { Exact = true }).PressSequentiallyAsync("typing...").WaitAsync(Slow, Ct);
        await Expect(alice.Page.Locator("#typing")).ToHaveTextAsync("bob is typing…").WaitAsync(Slow, Ct);
        await bob.Page.GetByLabel("Message", new() { Exact = true }).FillAsync("").WaitAsync(Slow, Ct);

        // A direct message: the room appears in Bob's list with an unread count, no reload.
        await alice.StartDirectMessageAsync("bob").WaitAsync(Slow, Ct);
        await alice.SendAsync("psst — lunch at noon?").WaitAsync(Slow, Ct);
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Back to rooms" }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.RoomButton("alice")).ToHaveAccessibleNameAsync("alice, 1 unread").WaitAsync(Slow, Ct);
        await bob.OpenRoomAsync("alice").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("psst — lunch at noon?")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Bob read it: Alice sees the read marker under her last message.
        await Expect(alice.Log.Locator(".seen")).ToHaveTextAsync("Seen by bob").WaitAsync(Slow, Ct);
        await bob.SendAsync("Sounds good!").WaitAsync(Slow, Ct);
        await Expect(alice.MessageText("Sounds good!")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await alice.OpenRoomAsync("lounge").WaitAsync(Slow, Ct);
        await alice.ScreenshotAsync("chat-desktop-alice").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("chat-phone-bob").WaitAsync(Slow, Ct);

        // Bob leaves the lounge: it goes from his list; Alice's stays.
        await bob.OpenRoomAsync("lounge").WaitAsync(Slow, Ct);
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Leave", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(bob.RoomButton("lounge")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await Expect(bob.RoomButton("alice")).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        await Expect(alice.RoomButton("lounge")).ToHaveCountAsync(1).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task ReloadKeepsHistoryAndScrollingUpLoadsOlderMessages()
    {
        const int Count = 130;
        var api = await TestUser.RegisterAsync(Host.BaseUri, "carol", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await api.CreateRoomAsync("archive").WaitAsync(Slow, Ct);
        for (var i = 1; i <= Count; i++) await api.PostMessageAsync(roomId, $"history message {i}").WaitAsync(Slow, Ct);

        var carol = await UserAsync("carol");
        await carol.LogInAsync().WaitAsync(Slow, Ct);
        await carol.OpenRoomAsync("archive").WaitAsync(Slow, Ct);
        await Expect(carol.MessageText($"history message {Count}")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var firstPage = await carol.HistoryAsync().WaitAsync(Slow, Ct);
        Assert.InRange(firstPage.Count, 1, Count - 1); // only the newest page, not everything

        await carol.SendAsync("written before the reload").WaitAsync(Slow, Ct);
        await Expect(carol.Log.Locator(".msg.pending")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        await carol.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await Expect(carol.MessageText("written before the reload")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(carol.MessageText($"history message {Count}")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Scroll up with the mouse wheel until the first message is there.
        await carol.Log.HoverAsync().WaitAsync(Slow, Ct);
        var sw = Stopwatch.StartNew();
        while (!await carol.MessageText("history message 1").IsVisibleAsync().WaitAsync(Slow, Ct))
        {
            Assert.True(sw.Elapsed < Slow, "older messages did not load while scrolling up");
            await carol.Page.Mouse.WheelAsync(0, -2000).WaitAsync(Slow, Ct);
            await carol.Page.WaitForTimeoutAsync(100).WaitAsync(Slow, Ct);
        }
        await Expect(carol.Log.Locator(".log-top")).ToHaveTextAsync("This is the beginning of archive.").WaitAsync(Slow, Ct);

        var all = await carol.HistoryAsync().WaitAsync(Slow, Ct);
        Assert.Equal(Count + 1, all.Count);
        Assert.Equal(Enumerable.Range(1, Count + 1).Select(i => (long)i), all.Select(m => m.Seq));
        Assert.Equal([.. Enumerable.Range(1, Count).Select(i => $"history message {i}"), "written before the reload"], all.Select(m => m.Text));
        await carol.Log.EvaluateAsync("log => { log.scrollTop = 0; }").WaitAsync(Slow, Ct);
        await carol.ScreenshotAsync("history-scrolled-to-top").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task MarkupInAMessageIsShownAsTextAndNeverRuns()
    {
        const string Evil = "<img src=x onerror=alert(1)>";
        var dave = await UserAsync("dave");
        var erin = await UserAsync("erin");
        await dave.RegisterAsync().WaitAsync(Slow, Ct);
        await erin.RegisterAsync().WaitAsync(Slow, Ct);
        await dave.CreateRoomAsync("<b>bold</b> room").WaitAsync(Slow, Ct);
        await erin.JoinPublicRoomAsync("<b>bold</b> room").WaitAsync(Slow, Ct);

        await dave.SendAsync(Evil).WaitAsync(Slow, Ct);
        await Expect(dave.MessageText(Evil)).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(erin.MessageText(Evil)).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await erin.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await Expect(erin.MessageText(Evil)).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await erin.Page.WaitForTimeoutAsync(500).WaitAsync(Slow, Ct);
        foreach (var u in new[] { dave, erin })
        {
            Assert.Equal(0, await u.Page.Locator("#messages img, #room-list b, #room-title b").CountAsync().WaitAsync(Slow, Ct));
            Assert.Empty(u.Dialogs);
        }
        await erin.ScreenshotAsync("markup-shown-as-text").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task ServerRestartWhileAUserKeepsTypingShowsOfflineThenReconnectsWithTheSameCompleteHistoryForBoth()
    {
        var frank = await UserAsync("frank");
        var grace = await UserAsync("grace");
        await frank.RegisterAsync().WaitAsync(Slow, Ct);
        await grace.RegisterAsync().WaitAsync(Slow, Ct);
        await frank.CreateRoomAsync("ops").WaitAsync(Slow, Ct);
        await grace.JoinPublicRoomAsync("ops").WaitAsync(Slow, Ct);

        var expected = new List<string>();
        for (var i = 1; i <= 3; i++)
        {
            await frank.SendAsync($"before restart {i}").WaitAsync(Slow, Ct);
            expected.Add($"before restart {i}");
        }
        await Expect(grace.MessageText("before restart 3")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        await Host.StopAsync().WaitAsync(Slow, Ct);
        await Expect(frank.ConnectionStatus).ToHaveTextAsync("Offline").WaitAsync(Slow, Ct);
        await Expect(frank.Page.GetByText("You are offline.", new() { Exact = false })).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Frank keeps writing while the server is down: the messages wait in the outbox.
        for (var i = 1; i <= 3; i++)
        {
            await frank.SendAsync($"while offline {i}").WaitAsync(Slow, Ct);
            expected.Add($"while offline {i}");
        }
        await Expect(frank.Log.Locator(".msg.pending")).ToHaveCountAsync(3).WaitAsync(Slow, Ct);
        await frank.ScreenshotAsync("restart-offline").WaitAsync(Slow, Ct);

        await Host.RestartAsync().WaitAsync(Slow, Ct);
        await Expect(frank.ConnectionStatus).ToHaveTextAsync("Connected", new() { Timeout = 20_000 }).WaitAsync(Slow, Ct);
        await Expect(grace.ConnectionStatus).ToHaveTextAsync("Connected", new() { Timeout = 20_000 }).WaitAsync(Slow, Ct);
        await Expect(frank.Log.Locator(".msg.pending")).ToHaveCountAsync(0, new() { Timeout = 20_000 }).WaitAsync(Slow, Ct);

        await grace.SendAsync("back again").WaitAsync(Slow, Ct);
        expected.Add("back again");
        await Expect(frank.MessageText("back again")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await frank.SendAsync("after restart").WaitAsync(Slow, Ct);
        expected.Add("after restart");
        await Expect(grace.MessageText("after restart")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(frank.Log.Locator(".msg.pending")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);

        var f = await frank.HistoryAsync().WaitAsync(Slow, Ct);
        var g = await grace.HistoryAsync().WaitAsync(Slow, Ct);
        Assert.Equal(expected, f.Select(m => m.Text));
        Assert.Equal(f, g);
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), f.Select(m => m.Seq));
        await frank.ScreenshotAsync("restart-reconnected").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task LoginAndChatViewsHaveNoSeriousOrCriticalAccessibilityViolations()
    {
        var heidi = await UserAsync("heidi");
        await AssertAccessibleAsync(heidi, "login view").WaitAsync(Slow, Ct);
        await heidi.ScreenshotAsync("login-view").WaitAsync(Slow, Ct);

        // A too-short password is explained before anything is sent.
        await heidi.Page.GetByLabel("Username", new() { Exact = true }).FillAsync("heidi").WaitAsync(Slow, Ct);
        await heidi.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("short").WaitAsync(Slow, Ct);
        await heidi.Page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(heidi.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("at least 8").WaitAsync(Slow, Ct);
        await heidi.RegisterAsync().WaitAsync(Slow, Ct);

        await heidi.CreateRoomAsync("accessible").WaitAsync(Slow, Ct);
        await heidi.SendAsync("Hello, screen readers!").WaitAsync(Slow, Ct);
        await Expect(heidi.Log.Locator(".msg.pending")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        await AssertAccessibleAsync(heidi, "chat view").WaitAsync(Slow, Ct);

        // Logging out in one tab ends the session in the other too (its socket is closed with 4001).
        var secondTab = await heidi.OpenSecondTabAsync().WaitAsync(Slow, Ct);
        await Expect(secondTab.Locator("#conn-pill")).ToHaveTextAsync("Connected").WaitAsync(Slow, Ct);
        await heidi.Page.GetByRole(AriaRole.Button, new() { Name = "Log out", Exact = true }).ClickAsync().WaitAsync(Slow, Ct);
        await Expect(heidi.Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(secondTab.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(secondTab.GetByRole(AriaRole.Alert)).ToHaveTextAsync("You were logged out. Log in again to continue.").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task LoginFormExplainsATakenNameAWrongPasswordAndThrottling()
    {
        await TestUser.RegisterAsync(Host.BaseUri, "judy", ChatUser.Password).WaitAsync(Slow, Ct);
        var ivan = await UserAsync("ivan");
        await ivan.Page.GetByLabel("Username", new() { Exact = true }).FillAsync("judy").WaitAsync(Slow, Ct);
        await ivan.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("another long password").WaitAsync(Slow, Ct);
        var register = ivan.Page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true });
        var logIn = ivan.Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true });
        var alert = ivan.Page.GetByRole(AriaRole.Alert);
        await register.ClickAsync().WaitAsync(Slow, Ct);
        await Expect(alert).ToContainTextAsync("taken").WaitAsync(Slow, Ct);
        await logIn.ClickAsync().WaitAsync(Slow, Ct);
        await Expect(alert).ToHaveTextAsync("Wrong username or password.").WaitAsync(Slow, Ct);
        await ivan.ScreenshotAsync("login-error").WaitAsync(Slow, Ct);

        // Repeated failures are throttled (429), and the page says so and for how long.
        for (var i = 0; i < 12 && !(await alert.TextContentAsync().WaitAsync(Slow, Ct) ?? "").Contains("Too many", StringComparison.Ordinal); i++)
        {
            await logIn.ClickAsync().WaitAsync(Slow, Ct);
            await Expect(logIn).ToBeEnabledAsync().WaitAsync(Slow, Ct);
        }
        await Expect(alert).ToContainTextAsync("Too many").WaitAsync(Slow, Ct);
        await Expect(alert).ToContainTextAsync("Try again in").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheComposerKeepsToTheTextLimitTheServerReports()
    {
        await UseHostAsync("Natter:Limits:MaxTextCodePoints=12");
        var kim = await UserAsync("kim");
        await kim.RegisterAsync().WaitAsync(Slow, Ct);
        await kim.CreateRoomAsync("short").WaitAsync(Slow, Ct);

        // The message box stops at the server's limit (12, not the default 4000), so what is sent is stored, never refused.
        await kim.SendAsync("abcdefghijklmnopqrstuvwxyz").WaitAsync(Slow, Ct);
        await Expect(kim.Log.Locator(".msg[data-seq] .text")).ToHaveTextAsync("abcdefghijkl").WaitAsync(Slow, Ct);
        await Expect(kim.Log.Locator(".msg.pending")).ToHaveCountAsync(0).WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task MessagesWrittenOfflineAreAllStoredInOrderWhenTheyOutnumberTheServersSendBurst()
    {
        await UseHostAsync("Natter:Limits:SendBurst=5", "Natter:Limits:SendsPerSecond=20");
        var lee = await UserAsync("lee");
        await lee.RegisterAsync().WaitAsync(Slow, Ct);
        await lee.CreateRoomAsync("backlog").WaitAsync(Slow, Ct);

        await Host.StopAsync().WaitAsync(Slow, Ct);
        await Expect(lee.ConnectionStatus).ToHaveTextAsync("Offline").WaitAsync(Slow, Ct);
        var expected = Enumerable.Range(1, 20).Select(i => $"offline note {i}").ToList();
        foreach (var text in expected) await lee.SendAsync(text).WaitAsync(Slow, Ct);
        await Expect(lee.Log.Locator(".msg.pending")).ToHaveCountAsync(expected.Count).WaitAsync(Slow, Ct);

        // On reconnect the client sends them within the server's rate (GET /api/config), so none is refused.
        await Host.RestartAsync().WaitAsync(Slow, Ct);
        await Expect(lee.Log.Locator(".msg.pending")).ToHaveCountAsync(0, new() { Timeout = 25_000 }).WaitAsync(Slow, Ct);
        var history = await lee.HistoryAsync().WaitAsync(Slow, Ct);
        Assert.Equal(expected, history.Select(m => m.Text));
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), history.Select(m => m.Seq));
        AssertNoPageErrors();
    }

    static async Task AssertAccessibleAsync(ChatUser user, string view)
    {
        var result = await user.Page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        var report = result.Violations
            .Select(v => $"{v.Impact} {v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")
            .ToList();
        var path = Path.Combine(ChatUser.ArtifactDir, $"axe-{view.Replace(' ', '-')}.txt");
        await File.WriteAllLinesAsync(path, report.Count > 0 ? report : ["no violations"], TestContext.Current.CancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine($"axe {view}: {report.Count} violation(s), report: {path}");
        Assert.True(bad.Count == 0, $"{view}: " + string.Join("; ", bad.Select(v => $"{v.Impact} {v.Id}: {v.Help}")));
    }
}
