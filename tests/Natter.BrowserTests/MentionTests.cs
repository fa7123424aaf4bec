using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>Mentions of the user: a badge on the room (live and from the server's mention_count) and a highlight.</summary>
public sealed class MentionTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task AMentionBadgesTheRoomLiveAndAfterAReloadAndTheMessageIsHighlighted()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("pings").WaitAsync(Slow, Ct);
        var bob = await UserAsync("bob");
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("pings").WaitAsync(Slow, Ct);
        await bob.CreateRoomAsync("elsewhere").WaitAsync(Slow, Ct);

        // Live: a mention in a room bob is not reading badges it; a message without one does not.
        await alice.PostMessageAsync(roomId, "nothing for anyone").WaitAsync(Slow, Ct);
        await alice.PostMessageAsync(roomId, "hey @bob, look at this").WaitAsync(Slow, Ct);
        var pings = bob.RoomButton("pings");
        await Expect(pings).ToHaveAttributeAsync("aria-label", "pings, 2 unread, 1 mentioning you").WaitAsync(Slow, Ct);
        await Expect(pings.Locator(".mention-badge")).ToHaveTextAsync("@1").WaitAsync(Slow, Ct);

        // After a reload the count comes from the server (mention_count).
        await alice.PostMessageAsync(roomId, "@bob and again").WaitAsync(Slow, Ct);
        await bob.Page.ReloadAsync().WaitAsync(Slow, Ct);
        await Expect(pings.Locator(".mention-badge")).ToHaveTextAsync("@2").WaitAsync(Slow, Ct);

        // Opening the room reads it: the badge goes, the mentions are highlighted, the other message is not.
        await bob.OpenRoomAsync("pings").WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator(".msg.mentions-me")).ToHaveCountAsync(2).WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator(".msg.mentions-me").First).ToContainTextAsync("hey @bob").WaitAsync(Slow, Ct);
        await bob.OpenRoomAsync("elsewhere").WaitAsync(Slow, Ct);
        await Expect(pings.Locator(".mention-badge")).ToBeHiddenAsync().WaitAsync(Slow, Ct);
        await Expect(pings).ToHaveAttributeAsync("aria-label", "pings").WaitAsync(Slow, Ct);
        AssertNoPageErrors();
    }
}
