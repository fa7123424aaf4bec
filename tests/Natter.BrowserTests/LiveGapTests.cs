using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Natter.BrowserTests;

/// <summary>
/// A seq gap in the live stream. The server never makes one (each socket gets every seq in order, and a node
/// fills its own gaps from the store), so the test loses frames on the way, in the page's WebSocket route.
/// </summary>
public sealed class LiveGapTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task AnEditAReactionAndADeletionLostOnTheWayAreRecoveredWhenTheNextFrameShowsTheGap()
    {
        var alice = await TestUser.RegisterAsync(Host.BaseUri, "alice", ChatUser.Password).WaitAsync(Slow, Ct);
        var roomId = await alice.CreateRoomAsync("gaps").WaitAsync(Slow, Ct);
        var keep = await alice.PostMessageAsync(roomId, "keep me").WaitAsync(Slow, Ct);
        var drop = await alice.PostMessageAsync(roomId, "take me back").WaitAsync(Slow, Ct);

        var bob = await UserAsync("bob");
        var tap = await SocketTap.AttachAsync(bob.Page).WaitAsync(Slow, Ct);
        await bob.RegisterAsync().WaitAsync(Slow, Ct);
        await bob.JoinPublicRoomAsync("gaps").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("take me back")).ToBeVisibleAsync().WaitAsync(Slow, Ct);

        // Three events of the room never reach bob's page.
        tap.DropFromServer(f => f.GetProperty("type").GetString() is "edit" or "reaction" or "delete");
        await SendAsync(alice, HttpMethod.Patch, $"/api/rooms/{roomId}/messages/{keep}", new { text = "keep me, fixed" });
        await SendAsync(alice, HttpMethod.Put, $"/api/rooms/{roomId}/messages/{keep}/reactions/%F0%9F%91%8D", new { });
        await SendAsync(alice, HttpMethod.Delete, $"/api/rooms/{roomId}/messages/{drop}", new { });
        await Wait.UntilAsync(() => tap.DroppedFrames.Count == 3, "three event frames lost", cancellationToken: Ct);
        tap.DropFromServer(null);

        // The next message shows the gap: the page asks for the room again from what it holds, and every kind
        // of event in the gap is applied, in order, before the message.
        var after = await alice.PostMessageAsync(roomId, "after the gap").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("after the gap")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        var kept = bob.Log.Locator($".msg[data-seq='{keep}']");
        await Expect(kept.Locator(".text")).ToHaveTextAsync("keep me, fixed").WaitAsync(Slow, Ct);
        await Expect(kept.Locator(".edited")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(kept.GetByRole(AriaRole.Button, new() { Name = "👍 1, by alice" })).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        await Expect(bob.Log.Locator($".msg[data-seq='{drop}'] .text")).ToHaveTextAsync("message deleted").WaitAsync(Slow, Ct);
        await Expect(bob.Log).Not.ToContainTextAsync("take me back").WaitAsync(Slow, Ct);

        var backfill = tap.Sent("sync").Select(f => f.GetProperty("rooms")).Where(r => r.TryGetProperty(roomId, out _)).ToList();
        Assert.Contains(backfill, r => r.GetProperty(roomId).GetInt64() == drop);
        var seqs = (await bob.HistoryAsync().WaitAsync(Slow, Ct)).Select(m => m.Seq).ToList();
        Assert.Equal([keep, drop, after], seqs);

        // The room's cursor passed every event: nothing is left unread, and the next frame is no gap.
        await alice.PostMessageAsync(roomId, "and on").WaitAsync(Slow, Ct);
        await Expect(bob.MessageText("and on")).ToBeVisibleAsync().WaitAsync(Slow, Ct);
        Assert.Equal(2, tap.Sent("sync").Count); // one at connect, one backfill
        AssertNoPageErrors();
    }

    static async Task SendAsync(TestUser user, HttpMethod method, string path, object body)
    {
        using var http = user.Http();
        using var r = await http.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) }, Ct);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }
}
