using Natter.Server.Storage;
using Natter.TestSupport.Specs;

namespace Natter.Tests;

/// <summary>
/// One SQLite group commit that mixes rooms, a repeated client_id and a message that is not plain (a reply): each
/// stored message gets its seq and exactly one search entry, found by a search after the commit; the repeat is
/// answered with the first message and indexes nothing.
/// </summary>
public sealed class SqliteGroupCommitTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"natter-group-commit-{Guid.NewGuid():N}.db");
    private IChatStore _store = null!;

    public async ValueTask InitializeAsync() => _store = await ChatStores.OpenSqliteAsync(_path);

    public async ValueTask DisposeAsync()
    {
        await ChatStores.CloseAsync(_store);
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_path + suffix);
        }
    }

    [Fact]
    public async Task A_mixed_batch_stores_each_message_once_with_its_seq_and_one_search_entry()
    {
        var alice = (await _store.CreateUserAsync("alice", "x", default))!.Value;
        var r1 = (await _store.CreateRoomAsync("one", alice, default)).Id;
        var r2 = (await _store.CreateRoomAsync("two", alice, default)).Id;
        NewEvent Msg(string room, string clientId, string text) => NewEvent.Message(room, alice, "alice", text, clientId, 1_000);

        var results = await _store.AppendAsync(
            [
                Msg(r1, "a", "apple one"),
                Msg(r2, "a", "banana two"),
                Msg(r1, "a", "cherry again"),
                Msg(r1, "b", "date four"),
                Msg(r1, "c", "elder five") with { ReplyTo = 1 },
                Msg(r2, "b", "fig six"),
            ], default).WaitAsync(Timeout);

        Assert.Equal(
            [(AppendOutcome.Stored, 1L, "apple one"), (AppendOutcome.Stored, 1L, "banana two"), (AppendOutcome.Duplicate, 1L, "apple one"),
             (AppendOutcome.Stored, 2L, "date four"), (AppendOutcome.Stored, 3L, "elder five"), (AppendOutcome.Stored, 2L, "fig six")],
            results.Select(r => (r.Outcome, r.Event!.Seq, r.Event.Text)));

        async Task<List<(string Room, long Seq)>> Find(string word) =>
            [.. (await _store.SearchAsync(new SearchQuery(alice, SearchWords.Query(word), null, null, null, 50), default).WaitAsync(Timeout))
                .Hits.Select(h => (h.Room, h.Seq))];

        Assert.Equal([(r1, 1L)], await Find("apple"));
        Assert.Equal([(r2, 1L)], await Find("banana"));
        Assert.Empty(await Find("cherry"));
        Assert.Equal([(r1, 2L)], await Find("date"));
        Assert.Equal([(r1, 3L)], await Find("elder"));
        Assert.Equal([(r2, 2L)], await Find("fig"));

        // The next commit goes on from there: new seqs, new search entries, newest first.
        var next = await _store.AppendAsync([Msg(r1, "d", "grape apple")], default).WaitAsync(Timeout);
        Assert.Equal((AppendOutcome.Stored, 4L), (next[0].Outcome, next[0].Event!.Seq));
        Assert.Equal([(r1, 4L), (r1, 1L)], await Find("apple"));
    }
}
