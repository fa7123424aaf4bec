using Microsoft.Data.Sqlite;
using Natter.Server.Storage;
using Natter.TestSupport.Specs;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// The SQLite dedupe index is keyed (client_id, room, sender) since schema migration 8, so that time-ordered ids share
/// pages: a repeated client_id from the same user in the same room is still answered with the first message after the
/// store is opened again (also on a database written before the migration), and the same client_id from another user
/// or in another room is a message of its own.
/// </summary>
public sealed class SqliteDedupeTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly SqliteStoreFile _file = new("dedupe");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _file.DisposeAsync();

    private Task<IChatStore> ReopenAsync() => _file.ReopenAsync();

    private sealed record World(long Alice, long Bob, string R1, string R2);

    private async Task<World> ArrangeAsync()
    {
        var store = await ReopenAsync();
        var alice = (await store.CreateUserAsync("alice", "x", default))!.Value;
        var bob = (await store.CreateUserAsync("bob", "x", default))!.Value;
        var r1 = await store.CreateRoomAsync("one", alice, default);
        var r2 = await store.CreateRoomAsync("two", alice, default);
        await store.JoinAsync(r1.Id, bob, default);
        await store.JoinAsync(r2.Id, bob, default);
        return new World(alice, bob, r1.Id, r2.Id);
    }

    private static NewEvent Msg(long sender, string room, string clientId, string text, long ts) =>
        NewEvent.Message(room, sender, sender.ToString(System.Globalization.CultureInfo.InvariantCulture), text, clientId, ts);

    private static List<(AppendOutcome, string, long, string, long)> Summary(IReadOnlyList<AppendResult> results) =>
        [.. results.Select(r => (r.Outcome, r.Event!.Room, r.Event.Seq, r.Event.Text, r.Event.Ts))];

    [Fact]
    public async Task A_repeat_after_the_store_reopens_gets_the_first_message_and_the_same_id_elsewhere_is_a_message_of_its_own()
    {
        var w = await ArrangeAsync();
        var v7 = Guid.CreateVersion7().ToString("N");
        var random = Guid.NewGuid().ToString("N");
        var first = await _file.Store!.AppendAsync(
            [
                Msg(w.Alice, w.R1, v7, "first v7", 1_000),
                Msg(w.Alice, w.R1, random, "first random", 1_001),
                Msg(w.Bob, w.R1, v7, "bob's own", 1_002),     // same id, another sender
                Msg(w.Alice, w.R2, v7, "other room", 1_003),  // same id, another room
            ], default).WaitAsync(Timeout);
        Assert.Equal(
            [(AppendOutcome.Stored, w.R1, 1L, "first v7", 1_000L), (AppendOutcome.Stored, w.R1, 2L, "first random", 1_001L),
             (AppendOutcome.Stored, w.R1, 3L, "bob's own", 1_002L), (AppendOutcome.Stored, w.R2, 1L, "other room", 1_003L)],
            Summary(first));

        var store = await ReopenAsync();
        var again = await store.AppendAsync(
            [
                Msg(w.Alice, w.R1, Guid.CreateVersion7().ToString("N"), "new one", 2_000),
                Msg(w.Alice, w.R1, random, "resent random", 2_001),
                Msg(w.Bob, w.R1, v7, "resent by bob", 2_002),
                Msg(w.Alice, w.R1, v7, "resent v7", 2_003),
                Msg(w.Alice, w.R2, v7, "resent in two", 2_004),
            ], default).WaitAsync(Timeout);
        Assert.Equal(
            [(AppendOutcome.Stored, w.R1, 4L, "new one", 2_000L), (AppendOutcome.Duplicate, w.R1, 2L, "first random", 1_001L),
             (AppendOutcome.Duplicate, w.R1, 3L, "bob's own", 1_002L), (AppendOutcome.Duplicate, w.R1, 1L, "first v7", 1_000L),
             (AppendOutcome.Duplicate, w.R2, 1L, "other room", 1_003L)],
            Summary(again));

        // Nothing was stored twice: the rooms' logs hold each message once, and the next seq follows on.
        Assert.Equal([1L, 2L, 3L, 4L], (await store.ReadEventsAsync(w.R1, 0, long.MaxValue, 100, true, default)).Select(e => e.Seq));
        Assert.Equal([1L], (await store.ReadEventsAsync(w.R2, 0, long.MaxValue, 100, true, default)).Select(e => e.Seq));
        var hits = await store.SearchAsync(new SearchQuery(w.Alice, SearchWords.Query("first"), null, null, null, 50), default);
        Assert.Equal([(w.R1, 2L), (w.R1, 1L)], hits.Hits.Select(h => (h.Room, h.Seq)));
    }

    [Fact]
    public async Task A_database_written_before_migration_8_answers_repeats_of_its_messages_after_the_migration()
    {
        var w = await ArrangeAsync();
        var ids = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        await _file.Store!.AppendAsync([.. ids.Select((id, i) => Msg(i % 2 == 0 ? w.Alice : w.Bob, i % 3 == 0 ? w.R2 : w.R1, id, "m" + i, 10_000 + i))], default)
            .WaitAsync(Timeout);
        await _file.CloseAsync();

        // Back to version 7's dedupe index keyed (room, sender, client_id), migrations 8 and 9 not applied (9 copies the
        // room log once more, into the table it is already).
        SqliteConnection.ClearAllPools();
        await using (var conn = new SqliteConnection($"Data Source={_file.Path};Pooling=False"))
        {
            await conn.OpenAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = SqliteBeforeSearchWaiting.Sql + """
                DROP INDEX messages_by_client_id;
                CREATE UNIQUE INDEX messages_client_id ON messages(room_id, sender_id, client_id);
                DELETE FROM schema_migrations WHERE version >= 8;
                """;
            await cmd.ExecuteNonQueryAsync();
        }

        var store = await ReopenAsync();
        var repeats = await store.AppendAsync(
            [.. ids.Select((id, i) => Msg(i % 2 == 0 ? w.Alice : w.Bob, i % 3 == 0 ? w.R2 : w.R1, id, "again " + i, 20_000 + i))], default)
            .WaitAsync(Timeout);

        Assert.All(repeats, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        Assert.Equal(ids.Select((_, i) => ("m" + i, 10_000L + i)), repeats.Select(r => (r.Event!.Text, r.Event.Ts)));
        Assert.Equal(200L, await store.GetLastSeqAsync(w.R1, default));
        Assert.Equal(100L, await store.GetLastSeqAsync(w.R2, default));
    }
}
