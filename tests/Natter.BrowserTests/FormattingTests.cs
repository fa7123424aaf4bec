using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Message formatting: links, code, quotes and emphasis as elements; hostile text shown as text and never run.</summary>
public sealed class FormattingTests(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>Set by any payload that runs; also catches alert and friends (ChatUser records dialogs too).</summary>
    const string Tripwire = "window.__ran = 0;";

    [Theory]
    [InlineData("desktop")]
    [InlineData("phone")]
    public async Task AConversationShowsLinksCodeBlocksQuotesEmphasisAndMentionsAsElements(string size)
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("deploys").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob", size == "phone" ? ChatUser.Phone : ChatUser.Desktop);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("deploys").WaitAsync(Slow, Ct);

        var notes = await alice.PostMessageAsync(roomId, "Deploy notes for *Friday*: see https://example.com/runbook_(v2). _Please_ skip the ~old~ checklist.").WaitAsync(Slow, Ct);
        var block = await alice.PostMessageAsync(roomId, "The commands:\n```\nnatter deploy --node b\nnatter status | grep *ready*\n```").WaitAsync(Slow, Ct);
        var quote = await alice.PostMessageAsync(roomId, "> Can we ship it today?\nYes, once `dotnet test` is green. @bob can you check?").WaitAsync(Slow, Ct);
        await bob.SendAsync("On it: https://ci.example.org/runs/42 looks *green* 🎉").WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator(".msg[data-seq] .text").Last).ToContainTextAsync("looks green").WaitAsync(Slow, Ct);

        var n = bob.Log.Locator($".msg[data-seq='{notes}'] .text");
        await Expect(n.Locator("strong")).ToHaveTextAsync("Friday").WaitAsync(Slow, Ct);
        await Expect(n.Locator("em")).ToHaveTextAsync("Please").WaitAsync(Slow, Ct);
        await Expect(n.Locator("s")).ToHaveTextAsync("old").WaitAsync(Slow, Ct);
        var link = n.GetByRole(AriaRole.Link);
        await Expect(link).ToHaveTextAsync("https://example.com/runbook_(v2)").WaitAsync(Slow, Ct);
        await Expect(link).ToHaveAttributeAsync("href", "https://example.com/runbook_(v2)").WaitAsync(Slow, Ct);
        await Expect(link).ToHaveAttributeAsync("target", "_blank").WaitAsync(Slow, Ct);
        await Expect(link).ToHaveAttributeAsync("rel", "noopener noreferrer").WaitAsync(Slow, Ct);
        // The sentence's full stop is not part of the link; the text reads as it was typed, less the markup.
        await Expect(n).ToHaveTextAsync("Deploy notes for Friday: see https://example.com/runbook_(v2). Please skip the old checklist.").WaitAsync(Slow, Ct);

        var b = bob.Log.Locator($".msg[data-seq='{block}'] .text");
        await Expect(b.Locator("pre code")).ToHaveTextAsync("natter deploy --node b\nnatter status | grep *ready*").WaitAsync(Slow, Ct);
        await Expect(b.Locator("strong")).ToHaveCountAsync(0).WaitAsync(Slow, Ct); // nothing is formatted inside code

        var q = bob.Log.Locator($".msg[data-seq='{quote}'] .text");
        await Expect(q.Locator("blockquote")).ToHaveTextAsync("Can we ship it today?").WaitAsync(Slow, Ct);
        await Expect(q.Locator("code")).ToHaveTextAsync("dotnet test").WaitAsync(Slow, Ct);
        await Expect(q.Locator(".mention.mention-me")).ToHaveTextAsync("@bob").WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync($"format-conversation-{size}").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task HostileAndPathologicalTextIsShownAsTextNothingRunsAndThePageStaysResponsive()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("hostile").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob");
        await bob.Context.AddInitScriptAsync(Tripwire).WaitAsync(Slow, Ct);
        await bob.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("hostile").WaitAsync(Slow, Ct);

        // Shown exactly as typed (none of it is markup that pairs up).
        string[] verbatim =
        [
            "<script>window.__ran=1</script> <img src=x onerror=\"window.__ran=1\"> <svg onload=window.__ran=1>",
            "javascript:window.__ran=1 JaVaScRiPt:alert(1) data:text/html,<script>window.__ran=1</script> vbscript:x",
            "[click me](javascript:window.__ran=1) <a href=\"javascript:window.__ran=1\">x</a> &lt;b&gt;",
            new string('`', 4000),
            "http://" + new string('a', 3990),
            string.Concat(Enumerable.Repeat("*a ", 1333)).Trim(),
            string.Concat(Enumerable.Repeat("```\n", 999)).Trim(),
            string.Concat(Enumerable.Repeat("http://.", 500)),
        ];
        // Markup that pairs up in odd ways: shown, whatever shape it takes.
        string[] tangled =
        [
            string.Concat(Enumerable.Repeat("*_", 2000)),
            string.Concat(Enumerable.Repeat("_*~", 1333)),
            string.Concat(Enumerable.Repeat("> ", 2000)).Trim(),
            "*bold _both* italic_ ~*x*~ **double** ***triple*** `*not bold*` `unclosed *x _y",
            "```js\nwindow.__ran=1 <script>\n``` trailing ``` more",
            "https://ok.example/?q=<script>window.__ran=1</script> (https://ok.example/a) https://ok.example/b.",
        ];
        var seqs = new List<long>();
        foreach (var text in verbatim.Concat(tangled)) seqs.Add(await alice.PostMessageAsync(roomId, text).WaitAsync(Slow, Ct));
        var last = await alice.PostMessageAsync(roomId, "still responsive").WaitAsync(Slow, Ct);
        // The page keeps up: the next message shows as usual.
        await Expect(bob.MessageText("still responsive")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        for (var i = 0; i < verbatim.Length; i++)
        {
            var shown = await bob.Log.Locator($".msg[data-seq='{seqs[i]}'] .text").TextContentAsync().WaitAsync(Slow, Ct);
            Assert.Equal(verbatim[i], shown);
        }
        for (var i = 0; i < tangled.Length; i++)
        {
            var shown = await bob.Log.Locator($".msg[data-seq='{seqs[verbatim.Length + i]}'] .text").TextContentAsync().WaitAsync(Slow, Ct);
            Assert.False(string.IsNullOrEmpty(shown));
        }

        // Nothing ran and nothing active was made: no script, image, frame or handler attribute; every link is
        // http(s), opens a new tab and tells the other page nothing.
        Assert.Equal(0, await bob.Page.EvaluateAsync<int>("window.__ran").WaitAsync(Slow, Ct));
        Assert.Empty(bob.Dialogs);
        var active = await bob.Log.EvaluateAsync<JsonElement>("""
            log => ({
              elements: log.querySelectorAll('script, img, svg, iframe, object, embed, style, link').length,
              handlers: [...log.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
              links: [...log.querySelectorAll('a')].map(a => [new URL(a.href).protocol, a.target, a.rel]),
            })
            """).WaitAsync(Slow, Ct);
        Assert.Equal(0, active.GetProperty("elements").GetInt32());
        Assert.Equal(0, active.GetProperty("handlers").GetInt32());
        var links = active.GetProperty("links").EnumerateArray().Select(l => (l[0].GetString(), l[1].GetString(), l[2].GetString())).ToList();
        Assert.NotEmpty(links);
        Assert.All(links, l =>
        {
            Assert.True(l.Item1 is "http:" or "https:", l.Item1);
            Assert.Equal("_blank", l.Item2);
            Assert.Equal("noopener noreferrer", l.Item3);
        });
        // The link in the query stops where the markup starts; the one in brackets leaves the bracket out.
        var hrefs = await bob.Log.Locator($".msg[data-seq='{seqs[^1]}'] a").EvaluateAllAsync<string[]>("as => as.map(a => a.getAttribute('href'))").WaitAsync(Slow, Ct);
        Assert.Equal(["https://ok.example/?q=", "https://ok.example/a", "https://ok.example/b"], hrefs);
        await Expect(bob.Log.Locator($".msg[data-seq='{last}']")).ToBeInViewportAsync().WaitAsync(Slow, Ct);
        await bob.ScreenshotAsync("format-hostile-desktop").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }
}
