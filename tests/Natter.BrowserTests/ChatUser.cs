using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>One person in their own browser context, driving the client the way a user would: by labels and roles.</summary>
public sealed class ChatUser : IAsyncDisposable
{
    public const string Password = "correct horse battery";
    const float ActionTimeoutMs = 10_000;

    readonly IBrowserContext _context;

    ChatUser(IBrowserContext context, IPage page, string name)
    {
        _context = context;
        Page = page;
        Name = name;
        page.PageError += (_, e) => { lock (PageErrors) PageErrors.Add(e); };
        page.Dialog += (_, d) =>
        {
            lock (Dialogs) Dialogs.Add($"{d.Type}: {d.Message}");
            _ = d.DismissAsync();
        };
    }

    public IPage Page { get; }
    public IBrowserContext Context => _context;
    public string Name { get; }
    /// <summary>Uncaught script errors on the page; a test ends by checking there are none.</summary>
    public List<string> PageErrors { get; } = [];
    /// <summary>alert/confirm/prompt dialogs that opened (none should).</summary>
    public List<string> Dialogs { get; } = [];

    public static readonly ViewportSize Desktop = new() { Width = 1280, Height = 800 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    /// <param name="options">changes to the browser context (a touch screen, permissions) before it opens</param>
    public static async Task<ChatUser> OpenAsync(BrowserFixture browser, TestServer host, string name, ViewportSize? viewport = null,
        Action<BrowserNewContextOptions>? options = null)
    {
        var contextOptions = new BrowserNewContextOptions
        {
            BaseURL = host.BaseUri.ToString(),
            ViewportSize = viewport ?? Desktop,
            Locale = "en-GB",
            TimezoneId = "Europe/Amsterdam",
            ColorScheme = ColorScheme.Light,
        };
        options?.Invoke(contextOptions);
        var context = await browser.Browser.NewContextAsync(contextOptions).WaitAsync(TimeSpan.FromSeconds(20));
        context.SetDefaultTimeout(ActionTimeoutMs);
        context.SetDefaultNavigationTimeout(15_000);
        var page = await context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var user = new ChatUser(context, page, name);
        await page.GotoAsync("/");
        await Expect(page.GetByLabel("Username", new() { Exact = true })).ToBeVisibleAsync();
        return user;
    }

    /// <summary>Another tab in the same browser context (same session cookie).</summary>
    public async Task<IPage> OpenSecondTabAsync()
    {
        var page = await _context.NewPageAsync().WaitAsync(TimeSpan.FromSeconds(20));
        page.PageError += (_, e) => { lock (PageErrors) PageErrors.Add(e); };
        await page.GotoAsync("/");
        return page;
    }

    public ILocator Rooms => Page.GetByRole(AriaRole.List, new() { Name = "Rooms", Exact = true });
    public ILocator Log => Page.GetByRole(AriaRole.Log, new() { Name = "Messages" });
    public ILocator ConnectionStatus => Page.Locator("#conn-pill");
    public ILocator MessageText(string text) => Log.Locator(".msg .text").GetByText(text, new() { Exact = true });

    public Task RegisterAsync() => SubmitCredentialsAsync("Register");
    public Task LogInAsync() => SubmitCredentialsAsync("Log in");

    async Task SubmitCredentialsAsync(string button)
    {
        await Page.GetByLabel("Username", new() { Exact = true }).FillAsync(Name);
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
        await Expect(Rooms).ToBeAttachedAsync();
        await Expect(ConnectionStatus).ToHaveTextAsync("Connected");
    }

    /// <summary>On a phone-sized window the room list and a room are separate screens.</summary>
    async Task ShowSidebarAsync()
    {
        var back = Page.GetByRole(AriaRole.Button, new() { Name = "Back to rooms" });
        if (await back.IsVisibleAsync()) await back.ClickAsync();
    }

    public async Task CreateRoomAsync(string name)
    {
        await ShowSidebarAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "New room", Exact = true }).ClickAsync();
        await Page.GetByLabel("Room name").FillAsync(name);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(Page.Locator("#room-title")).ToHaveTextAsync($"# {name}");
    }

    public async Task JoinPublicRoomAsync(string name)
    {
        await ShowSidebarAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Browse rooms", Exact = true }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = $"Join {name}", Exact = true }).ClickAsync();
        await Expect(Page.Locator("#room-title")).ToHaveTextAsync($"# {name}");
    }

    public async Task StartDirectMessageAsync(string username)
    {
        await ShowSidebarAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Direct message", Exact = true }).ClickAsync();
        await Page.GetByLabel("Recipient").FillAsync(username);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Start chat", Exact = true }).ClickAsync();
        await Expect(Page.Locator("#room-title")).ToHaveTextAsync(username);
    }

    /// <summary>Opens a room from the sidebar list (its accessible name starts with the room's title).</summary>
    public async Task OpenRoomAsync(string title)
    {
        await ShowSidebarAsync();
        await RoomButton(title).ClickAsync();
        await Expect(Log).ToBeVisibleAsync();
    }

    public ILocator RoomButton(string title) =>
        Rooms.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex($"^{System.Text.RegularExpressions.Regex.Escape(title)}(,|$)") });

    /// <summary>Types a message and presses Enter.</summary>
    public async Task SendAsync(string text)
    {
        var box = Page.GetByLabel("Message", new() { Exact = true });
        await box.FillAsync(text);
        await box.PressAsync("Enter");
    }

    /// <summary>The stored messages on screen, in screen order: (seq, from, text).</summary>
    public async Task<IReadOnlyList<(long Seq, string From, string Text)>> HistoryAsync()
    {
        var json = await Log.EvaluateAsync<JsonElement>(
            "log => [...log.querySelectorAll('.msg[data-seq]')].map(m => [Number(m.dataset.seq), m.dataset.from, m.querySelector('.text').textContent])");
        return [.. json.EnumerateArray().Select(e => (e[0].GetInt64(), e[1].GetString()!, e[2].GetString()!))];
    }

    /// <summary>Screenshots and reports: NATTER_SCREENSHOT_DIR, else TestResults/screenshots next to the test binary.</summary>
    public static string ArtifactDir
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("NATTER_SCREENSHOT_DIR") is { Length: > 0 } d
                ? d
                : Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>Saves a screenshot under the test output folder and returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(ArtifactDir, $"{name}.png");
        await Page.ScreenshotAsync(new() { Path = path, Timeout = 15_000 });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
        TestContext.Current.SendDiagnosticMessage($"screenshot: {path}");
        return path;
    }

    public void AssertNoPageErrors()
    {
        lock (PageErrors) Assert.True(PageErrors.Count == 0, $"{Name}: script errors: {string.Join(" | ", PageErrors)}");
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync().WaitAsync(TimeSpan.FromSeconds(15));
}
