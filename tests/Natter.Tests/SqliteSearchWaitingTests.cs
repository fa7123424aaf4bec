using Microsoft.Data.Sqlite;
using Natter.Server.Storage;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// SQLite keeps new messages' words in search_pending and moves them into the full-text index many commits at a time
/// (schema migration 11). What a user relies on does not change: a search finds every stored message at once, an
/// edited message by its new words only, a deleted one (or one of a deleted room) not at all, after a restart too;
/// and a later search still finds each message once.
/// </summary>
public sealed class SqliteSearchWaitingTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // Nothing moves by time in these tests; a batch of 1000 is not reached unless a test lowers it.
    private SqliteStoreFile _file = new("search-waiting", s => s.SqliteSearchIndexDelay = TimeSpan.FromHours(1));
    private IChatStore _store = null!;
    private long _alice;
    private string _room = "";
    private int _ids;

    public async ValueTask InitializeAsync() => await OpenAsync(_file);

    public async ValueTask DisposeAsync() => await _file.DisposeAsync();

    private async Task OpenAsync(SqliteStoreFile file)
    {
        _file = file;
        _store = await file.ReopenAsync().WaitAsync(Timeout);
        _alice = (await _store.CreateUserAsync("alice", "x", default))!.Value;
        _room = (await _store.CreateRoomAsync("general", _alice, default)).Id;
    }

    [Fact]
    public async Task Stored_words_wait_outside_the_index_and_a_search_finds_them_all()
    {
        await SendAsync("apple one");
        await SendAsync("apple two", "banana");

        Assert.Equal(3, await WaitingAsync());
        Assert.Equal([2L, 1L], await FindAsync("apple"));
        Assert.Equal([1L], await FindAsync("one"));
        Assert.Equal(0, await WaitingAsync());

        // Words stored after the move wait again and join the same index: each message is found once.
        await SendAsync("apple three");
        Assert.Equal([4L, 2L, 1L], await FindAsync("apple"));
    }

    [Fact]
    public async Task A_full_batch_moves_into_the_index_in_the_commit_that_fills_it()
    {
        await using var file = new SqliteStoreFile("search-batch", s => (s.SqliteSearchIndexBatch, s.SqliteSearchIndexDelay) = (3, TimeSpan.FromHours(1)));
        await _file.DisposeAsync();
        await OpenAsync(file);

        await SendAsync("cherry one", "cherry two");
        Assert.Equal(2, await WaitingAsync());
        await SendAsync("cherry three");
        Assert.Equal(0, await WaitingAsync());
        Assert.Equal([3L, 2L, 1L], await FindAsync("cherry"));
    }

    [Fact]
    public async Task An_edited_waiting_message_is_found_by_its_new_words_only()
    {
        await SendAsync("grape first");
        var edit = await AppendAsync(new NewEvent(_room, _alice, "alice", EventKind.Edit, "e1", 2_000) { Target = 1, Text = "melon second" });
        Assert.Equal(AppendOutcome.Stored, edit.Outcome);

        Assert.Empty(await FindAsync("grape"));
        Assert.Equal([1L], await FindAsync("melon"));

        // Edited again once its words are in the index: the index's copy is replaced, not doubled.
        await AppendAsync(new NewEvent(_room, _alice, "alice", EventKind.Edit, "e2", 3_000) { Target = 1, Text = "melon third" });
        Assert.Empty(await FindAsync("second"));
        Assert.Equal([1L], await FindAsync("melon"));
        Assert.Equal([1L], await FindAsync("third"));
        await AssertIndexIntactAsync();
    }

    [Fact]
    public async Task A_deleted_waiting_message_is_not_found()
    {
        await SendAsync("lemon secret", "lemon kept");
        var deletion = await AppendAsync(new NewEvent(_room, _alice, "alice", EventKind.Delete, "d1", 2_000) { Target = 1 });
        Assert.Equal(AppendOutcome.Stored, deletion.Outcome);

        Assert.Equal(1, await WaitingAsync());
        Assert.Empty(await FindAsync("secret"));
        Assert.Equal([2L], await FindAsync("lemon"));
        await AssertIndexIntactAsync();
    }

    [Fact]
    public async Task A_deleted_rooms_waiting_messages_leave_nothing_behind()
    {
        var other = (await _store.CreateRoomAsync("other", _alice, default)).Id;
        await SendAsync("olive here");
        Assert.Equal(AppendOutcome.Stored, (await AppendAsync(NewEvent.Message(other, _alice, "alice", "olive there", "o1", 1_000))).Outcome);

        await ((IRoomAdminStore)_store).DeleteRoomAsync(other, default).WaitAsync(Timeout);

        Assert.Equal(1, await WaitingAsync());
        Assert.Equal([1L], await FindAsync("olive"));
        await AssertIndexIntactAsync();
    }

    [Fact]
    public async Task Waiting_words_survive_a_restart()
    {
        await SendAsync("peach before");
        Assert.Equal(1, await WaitingAsync());

        _store = await _file.ReopenAsync().WaitAsync(Timeout);

        Assert.Equal([1L], await FindAsync("peach"));
        Assert.Equal(0, await WaitingAsync());
    }

    private async Task SendAsync(params string[] texts)
    {
        var results = await _store.AppendAsync(
            [.. texts.Select(t => NewEvent.Message(_room, _alice, "alice", t, $"c{++_ids}", 1_000))], default).WaitAsync(Timeout);
        Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
    }

    private async Task<AppendResult> AppendAsync(NewEvent e) => (await _store.AppendAsync([e], default).WaitAsync(Timeout)).Single();

    private async Task<List<long>> FindAsync(string word) =>
        [.. (await _store.SearchAsync(new SearchQuery(_alice, SearchWords.Query(word), null, null, null, 50), default).WaitAsync(Timeout)).Hits.Select(h => h.Seq)];

    private async Task<long> WaitingAsync()
    {
        await using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _file.Path, Pooling = false }.ToString());
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM search_pending";
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>FTS5's own check of its index (a contentless index that was told to delete words it never held fails it).</summary>
    private async Task AssertIndexIntactAsync()
    {
        await using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _file.Path, Pooling = false }.ToString());
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "INSERT INTO search_index(search_index) VALUES ('integrity-check')";
        await cmd.ExecuteNonQueryAsync();
    }
}
