using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Natter.Server.Common;
using Natter.Server.Storage;
using Natter.Server.Storage.MySql;
using Natter.Server.Storage.Sqlite;

namespace Natter.TestSupport.Specs;

/// <summary>
/// What every IChatStore does, written once. Each subclass supplies a fresh store (a new SQLite file, a new
/// MariaDB database); NewStoreAsync may be called twice to get two "nodes" on the same data. A test project runs
/// it by deriving a sealed class from <see cref="SqliteStoreSpec"/> or <see cref="MariaDbStoreSpec"/>.
/// </summary>
public abstract partial class StoreSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private IChatStore? _store;

    protected IChatStore Store => _store!;

    /// <summary>Another store instance on the same data (a second node).</summary>
    protected abstract Task<IChatStore> NewStoreAsync();

    public virtual async ValueTask InitializeAsync() => _store = await NewStoreAsync();

    public async ValueTask DisposeAsync()
    {
        await CleanupAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes the data the subclass created.</summary>
    protected abstract ValueTask CleanupAsync();

    private async Task<long> UserAsync(string name) =>
        (await Store.CreateUserAsync(name, "hash-" + name, default).WaitAsync(Timeout))!.Value;

    private static NewEvent Msg(string room, long sender, string clientId, string text = "hello") =>
        NewEvent.Message(room, sender, "u" + sender, text, clientId, 1_700_000_000_000);

    [Fact]
    public async Task Users_are_unique_and_sessions_expire_and_can_be_deleted()
    {
        var id = await UserAsync("alice");
        Assert.Null(await Store.CreateUserAsync("alice", "other", default).WaitAsync(Timeout));
        var user = await Store.FindUserAsync("alice", default).WaitAsync(Timeout);
        Assert.Equal(new User(id, "alice", "hash-alice", "active"), user);
        Assert.Null(await Store.FindUserAsync("bob", default).WaitAsync(Timeout));
        await UserAsync("bob");
        Assert.Equal(["alice", "bob"], await Store.ListUsernamesAsync(10, default).WaitAsync(Timeout));

        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        var hash = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
        var sessionId = await Store.CreateSessionAsync(id, hash, now.AddHours(1), default).WaitAsync(Timeout);
        var session = await Store.FindSessionAsync(hash, now, default).WaitAsync(Timeout);
        Assert.Equal((sessionId, id, "alice"), (session!.Id, session.UserId, session.Username));
        Assert.Null(await Store.FindSessionAsync(hash, now.AddHours(2), default).WaitAsync(Timeout));
        await Store.DeleteSessionAsync(sessionId, default).WaitAsync(Timeout);
        Assert.Null(await Store.FindSessionAsync(hash, now, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Expired_sessions_are_swept_and_live_ones_kept()
    {
        var id = await UserAsync("alice");
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        var expired = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var live = Enumerable.Range(2, 32).Select(i => (byte)i).ToArray();
        await Store.CreateSessionAsync(id, expired, now.AddMinutes(-1), default).WaitAsync(Timeout);
        await Store.CreateSessionAsync(id, live, now.AddHours(1), default).WaitAsync(Timeout);

        var expiredId = (await Store.FindSessionAsync(expired, now.AddMinutes(-2), default).WaitAsync(Timeout))!.Id;
        Assert.Equal([expiredId], await Store.DeleteExpiredSessionsAsync(now, default).WaitAsync(Timeout));
        Assert.Empty(await Store.DeleteExpiredSessionsAsync(now, default).WaitAsync(Timeout));
        Assert.NotNull(await Store.FindSessionAsync(live, now, default).WaitAsync(Timeout));
        Assert.Null(await Store.FindSessionAsync(expired, now.AddMinutes(-2), default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Rooms_are_joined_left_and_listed_with_their_seqs()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("Général ☕", alice, default).WaitAsync(Timeout);
        Assert.Equal(room, await Store.FindRoomAsync(room.Id, default).WaitAsync(Timeout));
        Assert.Equal(JoinOutcome.Joined, await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout));
        Assert.Equal(JoinOutcome.AlreadyMember, await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout));
        Assert.Equal(JoinOutcome.NotFound, await Store.JoinAsync("rnope", bob, default).WaitAsync(Timeout));
        Assert.Equal([alice, bob], (await Store.ListMembersAsync(room.Id, default).WaitAsync(Timeout)).Select(m => m.UserId).Order());
        Assert.Equal(2, Assert.Single(await Store.ListPublicRoomsAsync(10, default).WaitAsync(Timeout)).Members);

        await Store.AppendAsync([Msg(room.Id, alice, "c1")], default).WaitAsync(Timeout);
        var mine = Assert.Single(await Store.ListRoomsOfUserAsync(bob, default).WaitAsync(Timeout));
        Assert.Equal(new MyRoom(room.Id, "Général ☕", RoomKinds.Group, 1, 0) { Members = 2 }, mine);

        Assert.True(await Store.LeaveAsync(room.Id, bob, default).WaitAsync(Timeout));
        Assert.False(await Store.LeaveAsync("rnope", bob, default).WaitAsync(Timeout));
        Assert.Empty(await Store.ListRoomsOfUserAsync(bob, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_pair_of_users_has_exactly_one_direct_room()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var first = await Store.GetOrCreateDirectRoomAsync(alice, bob, default).WaitAsync(Timeout);
        var again = await Store.GetOrCreateDirectRoomAsync(bob, alice, default).WaitAsync(Timeout);
        Assert.True(first.Created && first.Added);
        Assert.False(again.Created || again.Added);
        Assert.Equal(first.Room.Id, again.Room.Id);
        Assert.Equal(RoomKinds.Direct, first.Room.Kind);
        Assert.Equal(JoinOutcome.DirectRoom, await Store.JoinAsync(first.Room.Id, alice, default).WaitAsync(Timeout));
        var seen = Assert.Single(await Store.ListRoomsOfUserAsync(alice, default).WaitAsync(Timeout));
        Assert.Equal(("bob", RoomKinds.Direct), (seen.Name, seen.Kind));
        Assert.Empty(await Store.ListPublicRoomsAsync(10, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Append_assigns_gapless_seqs_per_room_and_answers_a_repeated_client_id_with_the_first_message()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var r1 = await Store.CreateRoomAsync("one", alice, default).WaitAsync(Timeout);
        var r2 = await Store.CreateRoomAsync("two", alice, default).WaitAsync(Timeout);

        var results = await Store.AppendAsync(
        [
            Msg(r1.Id, alice, "a"), Msg(r2.Id, alice, "a"), Msg(r1.Id, bob, "a"), Msg(r1.Id, alice, "a", "again in the batch"),
            Msg(r1.Id, alice, "trailing "), Msg(r1.Id, alice, "trailing"), Msg(r2.Id, alice, "😀"),
        ], default).WaitAsync(Timeout);
        Assert.Equal([1, 1, 2, 1, 3, 4, 2], results.Select(r => r.Event!.Seq));
        Assert.Equal([false, false, false, true, false, false, false], results.Select(r => r.Duplicate));
        Assert.Equal("hello", results[3].Event!.Text);

        var later = await Store.AppendAsync([Msg(r1.Id, bob, "a", "changed"), Msg(r1.Id, bob, "b", "new")], default).WaitAsync(Timeout);
        Assert.Equal((2L, true, "hello"), (later[0].Event!.Seq, later[0].Duplicate, later[0].Event!.Text));
        Assert.Equal((5L, false), (later[1].Event!.Seq, later[1].Duplicate));
        Assert.Equal(5, await Store.GetLastSeqAsync(r1.Id, default).WaitAsync(Timeout));
        Assert.Equal(2, await Store.GetLastSeqAsync(r2.Id, default).WaitAsync(Timeout));
        var history = await Store.ReadMessagesAsync(r1.Id, 0, long.MaxValue, 100, true, default).WaitAsync(Timeout);
        Assert.Equal([1, 2, 3, 4, 5], history.Select(m => m.Seq));
        Assert.Equal(["a", "a", "trailing ", "trailing", "b"], history.Select(m => m.ClientId));
        Assert.Equal("😀", (await Store.ReadMessagesAsync(r2.Id, 1, long.MaxValue, 1, true, default).WaitAsync(Timeout))[0].ClientId);
    }

    [Fact]
    public async Task History_pages_backwards_from_before_and_forwards_from_after()
    {
        var alice = await UserAsync("alice");
        var room = await Store.CreateRoomAsync("r", alice, default).WaitAsync(Timeout);
        await Store.AppendAsync(Enumerable.Range(1, 25).Select(i => Msg(room.Id, alice, "c" + i, "text " + i)).ToList(), default).WaitAsync(Timeout);

        var newest = await Store.ReadMessagesAsync(room.Id, 0, long.MaxValue, 10, false, default).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(16, 10).Select(i => (long)i), newest.Select(m => m.Seq));
        var before = await Store.ReadMessagesAsync(room.Id, 0, 16, 10, false, default).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(6, 10).Select(i => (long)i), before.Select(m => m.Seq));
        var after = await Store.ReadMessagesAsync(room.Id, 20, long.MaxValue, 3, true, default).WaitAsync(Timeout);
        Assert.Equal([21, 22, 23], after.Select(m => m.Seq));
        Assert.Equal(("alice", "text 21"), (after[0].From, after[0].Text));
        Assert.Empty(await Store.ReadMessagesAsync(room.Id, 25, long.MaxValue, 3, true, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Read_markers_never_move_backwards_or_past_the_last_seq()
    {
        var alice = await UserAsync("alice");
        var room = await Store.CreateRoomAsync("r", alice, default).WaitAsync(Timeout);
        await Store.AppendAsync(Enumerable.Range(1, 5).Select(i => Msg(room.Id, alice, "c" + i)).ToList(), default).WaitAsync(Timeout);

        Assert.Equal(3, await Store.MarkReadAsync(room.Id, alice, 3, default).WaitAsync(Timeout));
        Assert.Null(await Store.MarkReadAsync(room.Id, alice, 2, default).WaitAsync(Timeout));
        Assert.Null(await Store.MarkReadAsync(room.Id, alice, 3, default).WaitAsync(Timeout));
        Assert.Equal(5, await Store.MarkReadAsync(room.Id, alice, 99, default).WaitAsync(Timeout));
        Assert.Null(await Store.MarkReadAsync("rnope", alice, 1, default).WaitAsync(Timeout));
        Assert.Equal(5, Assert.Single(await Store.ListRoomsOfUserAsync(alice, default).WaitAsync(Timeout)).ReadSeq);
    }

    [Fact]
    public async Task Two_stores_appending_to_the_same_rooms_at_once_never_duplicate_or_skip_a_seq()
    {
        var alice = await UserAsync("alice");
        var rooms = new[] { await Store.CreateRoomAsync("a", alice, default), await Store.CreateRoomAsync("b", alice, default) };
        var second = await NewStoreAsync();

        async Task WriteAsync(IChatStore store, string node)
        {
            for (var batch = 0; batch < 20; batch++)
            {
                // Both rooms in every batch, in opposite orders on the two nodes: the lock order must not deadlock.
                var msgs = Enumerable.Range(0, 10)
                    .Select(i => Msg(rooms[(i + (node == "x" ? 0 : 1)) % 2].Id, alice, $"{node}-{batch}-{i}"))
                    .ToList();
                await store.AppendAsync(msgs, default).WaitAsync(Timeout);
            }
        }

        await Task.WhenAll(Task.Run(() => WriteAsync(Store, "x")), Task.Run(() => WriteAsync(second, "y"))).WaitAsync(Timeout);
        foreach (var room in rooms)
        {
            var all = await Store.ReadMessagesAsync(room.Id, 0, long.MaxValue, 1000, true, default).WaitAsync(Timeout);
            Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), all.Select(m => m.Seq));
            Assert.Equal(200, all.Select(m => m.ClientId).Distinct().Count());
            Assert.Equal(200, await Store.GetLastSeqAsync(room.Id, default).WaitAsync(Timeout));
        }

        await ChatStores.CloseAsync(second);
    }
}

/// <summary>The spec on a new SQLite file; the second store opens the same file.</summary>
public abstract class SqliteStoreSpec : StoreSpec
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"natter-store-spec-{Guid.NewGuid():N}.db");
    private readonly List<IChatStore> _opened = [];

    protected override async Task<IChatStore> NewStoreAsync()
    {
        var store = await ChatStores.OpenSqliteAsync(_path);
        _opened.Add(store);
        return store;
    }

    protected override async ValueTask CleanupAsync()
    {
        foreach (var s in _opened)
        {
            await ChatStores.CloseAsync(s);
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_path + suffix);
        }
    }
}

/// <summary>The spec on a new MariaDB database (NATTER_TEST_MYSQL); the second store is a second node on it.</summary>
public abstract class MariaDbStoreSpec : StoreSpec
{
    private string? _connectionString;
    private string? _database;

    public override ValueTask InitializeAsync()
    {
        _connectionString = TestServices.NewDatabase(out var database);
        _database = database;
        return base.InitializeAsync();
    }

    protected override Task<IChatStore> NewStoreAsync() => ChatStores.OpenMySqlAsync(_connectionString!);

    protected override async ValueTask CleanupAsync()
    {
        if (_database is not null)
        {
            await TestServices.DropDatabaseAsync(_database);
        }
    }
}

/// <summary>The server's stores, opened on their own (no host) with their schema in place.</summary>
public static class ChatStores
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<IChatStore> OpenSqliteAsync(string path, Action<StorageOptions>? configure = null)
    {
        var natter = new NatterOptions { Storage = { Provider = "sqlite", SqlitePath = path, SqliteSynchronous = "NORMAL" } };
        configure?.Invoke(natter.Storage);
        var options = Options.Create(natter);
        var store = new SqliteChatStore(options, TimeProvider.System, NullLogger<SqliteChatStore>.Instance);
        await store.InitializeAsync(default).WaitAsync(Timeout);
        return store;
    }

    public static async Task<IChatStore> OpenMySqlAsync(string connectionString)
    {
        var options = Options.Create(new NatterOptions { Storage = { Provider = "mysql", MySqlConnectionString = connectionString } });
        var store = new MySqlChatStore(options, TimeProvider.System, NullLogger<MySqlChatStore>.Instance);
        await store.InitializeAsync(default).WaitAsync(Timeout);
        return store;
    }

    public static async Task CloseAsync(IChatStore store)
    {
        if (store is IAsyncDisposable d)
        {
            await d.DisposeAsync();
        }
    }
}
