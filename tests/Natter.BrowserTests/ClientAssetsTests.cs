using System.Net;
using System.Text.RegularExpressions;

namespace Natter.BrowserTests;

/// <summary>The client's files as the server serves them; no browser needed.</summary>
public sealed partial class ClientAssetsTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The page and every file of the client (every module, however the client is split).</summary>
    static IEnumerable<string> Assets() =>
        Directory.EnumerateFiles(ServerOptions.SourceWebRoot, "*", SearchOption.AllDirectories)
            .Select(f => "/" + Path.GetRelativePath(ServerOptions.SourceWebRoot, f).Replace('\\', '/'))
            .Prepend("/");

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase)]
    private static partial Regex OutsideUrl();

    [Fact]
    public async Task TheClientIsServedAtTheRootAndLoadsNothingFromOutside()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await TestServer.StartAsync(new ServerOptions { WebRoot = ServerOptions.SourceWebRoot }).WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = host.BaseUri, Timeout = Timeout };
        var assets = Assets().ToList();
        Assert.Contains("/app.js", assets);
        Assert.Contains("/state.js", assets);
        foreach (var path in assets)
        {
            using var res = await http.GetAsync(path, ct).WaitAsync(Timeout, ct);
            Assert.True(res.StatusCode == HttpStatusCode.OK, $"GET {path}: HTTP {(int)res.StatusCode}");
            var text = await res.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct);
            // Only the SVG namespace name looks like a URL; it is an identifier, never fetched.
            var urls = OutsideUrl().Matches(text.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal));
            Assert.True(urls.Count == 0, $"{path} refers to {string.Join(", ", urls.Select(u => u.Value))}");
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain("insertAdjacentHTML", text, StringComparison.Ordinal);
        }
        using var index = await http.GetAsync("/", ct).WaitAsync(Timeout, ct);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"app.js\">", await index.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct), StringComparison.Ordinal);
        host.Errors.AssertNone();
    }
}
