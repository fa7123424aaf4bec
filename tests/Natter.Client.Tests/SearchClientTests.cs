using System.Net;

namespace Natter.Client.Tests;

/// <summary>The client library's search (protocol v2 §2) against a real server.</summary>
public sealed class SearchClientTests
{
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<NatterClient> LoggedInAsync(Uri baseUri, string prefix)
    {
        var client = new NatterClient(baseUri);
        var name = prefix + Guid.NewGuid().ToString("N")[..10];
        Assert.True(await client.RegisterAsync(name, Password, Ct).WaitAsync(Step, Ct));
        await client.LoginAsync(name, Password, Ct).WaitAsync(Step, Ct);
        return client;
    }

    [Fact]
    public async Task Search_pages_through_every_match_newest_first_with_room_names_and_current_text()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await LoggedInAsync(server.BaseUri, "alice");
        var room = await alice.CreateRoomAsync("Café", Ct).WaitAsync(Step, Ct);
        await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);
        for (var i = 1; i <= 5; i++)
        {
            await alice.SendAsync(room.Id, $"Résumé draft {i}", cancellationToken: Ct).WaitAsync(Step, Ct);
        }

        await alice.SendAsync(room.Id, "unrelated", cancellationToken: Ct).WaitAsync(Step, Ct);
        await alice.EditAsync(room.Id, 2, "Résumé final", cancellationToken: Ct).WaitAsync(Step, Ct);

        var first = await alice.SearchAsync("resume DRAFT", limit: 2, cancellationToken: Ct).WaitAsync(Step, Ct);
        Assert.Equal(["Résumé draft 5", "Résumé draft 4"], first.Results.Select(r => r.Message.Text));
        Assert.All(first.Results, r => Assert.Equal("Café", r.RoomName));
        Assert.NotNull(first.Cursor);

        var all = new List<SearchResult>();
        await foreach (var r in alice.SearchAllAsync("resume draft", pageSize: 2, cancellationToken: Ct))
        {
            all.Add(r);
        }

        Assert.Equal([5L, 4, 3, 1], all.Select(r => r.Message.Seq));
        var edited = Assert.Single((await alice.SearchAsync("final", room: room.Id, from: alice.Username!, cancellationToken: Ct).WaitAsync(Step, Ct)).Results);
        Assert.Equal((2L, "Résumé final"), (edited.Message.Seq, edited.Message.Text));
        Assert.NotNull(edited.Message.EditedTs);
        Assert.Null((await alice.SearchAsync("final", cancellationToken: Ct).WaitAsync(Step, Ct)).Cursor);
    }

    [Fact]
    public async Task A_refused_search_throws_with_the_status()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await LoggedInAsync(server.BaseUri, "alice");
        await using var bob = await LoggedInAsync(server.BaseUri, "bob");
        var room = await bob.CreateRoomAsync("bob's", Ct).WaitAsync(Step, Ct);

        var bad = await Assert.ThrowsAsync<NatterHttpException>(() => alice.SearchAsync("!!", cancellationToken: Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var forbidden = await Assert.ThrowsAsync<NatterHttpException>(() => alice.SearchAsync("hi", room: room.Id, cancellationToken: Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}
