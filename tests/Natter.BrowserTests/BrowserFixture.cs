using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(Natter.BrowserTests.BrowserFixture))]

namespace Natter.BrowserTests;

/// <summary>
/// One headless Debian chromium for the whole run, driven by Playwright. Playwright's own browser
/// download (<c>playwright install</c>) cannot work here, so the executable is always given.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    ];

    IPlaywright? _playwright;
    IBrowser? _browser;

    /// <summary>Why the browser could not be started, or null when it runs.</summary>
    public string? Unavailable { get; private set; }

    public IBrowser Browser => _browser ?? throw new InvalidOperationException(Unavailable ?? "browser not started");

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("NATTER_TEST_CHROMIUM") is { Length: > 0 } p ? p : "/usr/bin/chromium";

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            Unavailable = $"Chromium not found at {ChromiumPath} (install it with `apt-get install -y chromium`, or set NATTER_TEST_CHROMIUM).";
            return;
        }
        try
        {
            _playwright = await Playwright.CreateAsync().WaitAsync(TimeSpan.FromSeconds(30));
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArgs,
                Timeout = 30_000,
            }).WaitAsync(TimeSpan.FromSeconds(40));
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            Unavailable = $"Chromium at {ChromiumPath} did not start: {e.Message}";
        }
    }

    /// <summary>Skips the test when the browser is missing, except under CI=true where that is a failure.</summary>
    public void RequireBrowser()
    {
        if (Unavailable is not null) TestServices.Unavailable(Unavailable);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync().WaitAsync(TimeSpan.FromSeconds(15));
        _playwright?.Dispose();
    }
}
