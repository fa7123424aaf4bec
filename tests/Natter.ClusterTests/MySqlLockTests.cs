using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Natter.Server.Common;
using Natter.Server.Storage;
using Natter.Server.Storage.MySql;

namespace Natter.ClusterTests;

/// <summary>The MariaDB store when another writer holds a room: the group commit leaves that room out instead of waiting.</summary>
public sealed class MySqlLockTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private string _connectionString = "";
    private string _database = "";

    public ValueTask InitializeAsync()
    {
        _connectionString = TestServices.NewDatabase(out _database);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await TestServices.DropDatabaseAsync(_database);

    [Fact]
    public async Task A_room_another_writer_holds_comes_back_busy_and_the_other_rooms_are_stored()
    {
        var store = new MySqlChatStore(Options.Create(new NatterOptions { Storage = { Provider = "mysql", MySqlConnectionString = _connectionString } }),
            TimeProvider.System, NullLogger<MySqlChatStore>.Instance);
        await store.InitializeAsync(default).WaitAsync(Timeout);
        var amy = (await store.CreateUserAsync("amy", "hash", default).WaitAsync(Timeout))!.Value;
        var held = await store.CreateRoomAsync("held", amy, default).WaitAsync(Timeout);
        var free = await store.CreateRoomAsync("free", amy, default).WaitAsync(Timeout);

        // Another node's commit, caught in the middle: it holds the room's row lock.
        await using var other = new MySqlConnection(_connectionString);
        await other.OpenAsync().WaitAsync(Timeout);
        await using var tx = await other.BeginTransactionAsync();
        await using (var lockRow = new MySqlCommand("SELECT last_seq FROM rooms WHERE id = @r FOR UPDATE", other, tx))
        {
            lockRow.Parameters.AddWithValue("@r", held.Id);
            await lockRow.ExecuteScalarAsync().WaitAsync(Timeout);
        }

        NewEvent Msg(string room, string clientId) => NewEvent.Message(room, amy, "amy", "hi", clientId, 1_700_000_000_000);
        var results = await store.AppendSkippingBusyRoomsAsync([Msg(held.Id, "h1"), Msg(free.Id, "f1"), Msg(held.Id, "h2")], default).WaitAsync(Timeout);
        Assert.Equal([true, false, true], results.Select(r => r.Busy));
        Assert.Equal(1, results[1].Event!.Seq);
        Assert.Equal(0, await store.GetLastSeqAsync(held.Id, default).WaitAsync(Timeout));

        // Once the other writer is done, the room is stored in order as usual.
        await tx.RollbackAsync();
        var later = await store.AppendSkippingBusyRoomsAsync([Msg(held.Id, "h1"), Msg(held.Id, "h2")], default).WaitAsync(Timeout);
        Assert.Equal([1L, 2L], later.Select(r => r.Event!.Seq));
        Assert.All(later, r => Assert.False(r.Busy));
    }
}
