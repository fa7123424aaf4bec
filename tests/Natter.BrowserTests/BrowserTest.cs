using System.Net.Http.Json;
using System.Text.Json;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

// One chromium, one server at a time: the machine is small and parallel browsers make timings flaky.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace Natter.BrowserTests;

/// <summary>
/// What a browser test class shares: its own server per test, the people in it, and the end-of-test check
/// (no uncaught script error in any page, no error logged by the server).
/// </summary>
public abstract class BrowserTest(BrowserFixture browser) : IAsyncLifetime
{
    protected static readonly TimeSpan Slow = TimeSpan.FromSeconds(30);
    readonly List<ChatUser> _users = [];
    TestServer? _host;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected TestServer Host => _host ?? throw new InvalidOperationException("no host");

    public async ValueTask InitializeAsync()
    {
        browser.RequireBrowser();
        Assertions.SetDefaultExpectTimeout(10_000);
        _host = await TestServer.StartAsync(new ServerOptions { WebRoot = ServerOptions.SourceWebRoot }).WaitAsync(Slow, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var u in _users) await u.DisposeAsync();
        if (_host is not null) await _host.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected async Task<ChatUser> UserAsync(string name, ViewportSize? viewport = null, Action<BrowserNewContextOptions>? options = null)
    {
        var u = await ChatUser.OpenAsync(browser, Host, name, viewport, options).WaitAsync(Slow, Ct);
        _users.Add(u);
        return u;
    }

    /// <summary>The person closes their browser (every tab, so their socket closes).</summary>
    protected async Task CloseAsync(ChatUser user)
    {
        user.AssertNoPageErrors();
        _users.Remove(user);
        await user.DisposeAsync().AsTask().WaitAsync(Slow, Ct);
    }

    /// <summary>Ends a test: no uncaught script error in any page, no error logged by the server.</summary>
    protected void AssertNoPageErrors()
    {
        foreach (var u in _users) u.AssertNoPageErrors();
        Host.Errors.AssertNone();
    }

    /// <summary>The user's read position in a room as another of their devices sees it (GET /api/rooms).</summary>
    protected static async Task<long> ReadSeqAsync(TestUser device, string roomId)
    {
        using var http = device.Http();
        var rooms = await http.GetFromJsonAsync<JsonElement[]>("api/rooms", Ct).WaitAsync(Slow, Ct) ?? [];
        return rooms.Single(r => r.GetProperty("id").GetString() == roomId).GetProperty("read_seq").GetInt64();
    }

    /// <summary>Runs axe on the page and writes its report; returns every violation as "impact id: help".</summary>
    protected static async Task<IReadOnlyList<(string? Impact, string Id)>> AxeAsync(ChatUser user, string view)
    {
        var result = await user.Page.RunAxe().WaitAsync(Slow, Ct);
        var report = result.Violations
            .Select(v => $"{v.Impact} {v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")
            .ToList();
        var path = Path.Combine(ChatUser.ArtifactDir, $"axe-{view.Replace(' ', '-')}.txt");
        await File.WriteAllLinesAsync(path, report.Count > 0 ? report : ["no violations"], Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"axe {view}: {report.Count} violation(s), report: {path}");
        return [.. result.Violations.Select(v => (v.Impact, v.Id))];
    }
}
