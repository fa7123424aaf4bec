using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>The Online list in the sidebar is current: not a minute behind.</summary>
public sealed class OnlineListTests(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>Well under the minute the list used to lag, with room for a slow machine.</summary>
    static readonly LocatorAssertionsToBeVisibleOptions SoonVisible = new() { Timeout = 20_000 };
    static readonly LocatorAssertionsToHaveCountOptions SoonGone = new() { Timeout = 20_000 };

    [Fact]
    public async Task SomeoneWhoSharesNoRoomAppearsInTheOnlineListAndGoesWhenTheyCloseTheirBrowser()
    {
        var alice = await UserAsync("alice");
        await alice.RegisterAsync().WaitAsync(Slow, Ct);
        var online = alice.Page.GetByRole(AriaRole.List, new() { Name = "Online users" });

        // Carol shares no room with alice, so no presence frame tells alice about her.
        var carol = await UserAsync("carol");
        await carol.RegisterAsync().WaitAsync(Slow, Ct);
        await Expect(online.GetByText("carol", new() { Exact = true })).ToBeVisibleAsync(SoonVisible).WaitAsync(Slow, Ct);

        // Dave shares a room with alice: his coming and going reach her through presence frames.
        var dave = await UserAsync("dave");
        await dave.RegisterAsync().WaitAsync(Slow, Ct);
        await dave.CreateRoomAsync("shared").WaitAsync(Slow, Ct);
        await alice.JoinPublicRoomAsync("shared").WaitAsync(Slow, Ct);
        await Expect(online.GetByText("dave", new() { Exact = true })).ToBeVisibleAsync(SoonVisible).WaitAsync(Slow, Ct);

        await CloseAsync(carol).WaitAsync(Slow, Ct);
        await CloseAsync(dave).WaitAsync(Slow, Ct);
        await Expect(online.GetByText("carol", new() { Exact = true })).ToHaveCountAsync(0, SoonGone).WaitAsync(Slow, Ct);
        await Expect(online.GetByText("dave", new() { Exact = true })).ToHaveCountAsync(0, SoonGone).WaitAsync(Slow, Ct);
        await Expect(alice.Page.GetByText("Nobody else is online right now.")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }
}
