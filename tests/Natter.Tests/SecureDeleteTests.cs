using System.Net;
using System.Text;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// Protocol v2 §1: a deleted message's text cannot be recovered from the store's files. On SQLite: secure_delete
/// zeroes freed space, the message and its edits are blanked, and a TRUNCATE checkpoint after the deletion leaves no
/// WAL frame with an older copy of the page.
/// </summary>
public sealed class SecureDeleteTests
{
    /// <summary>Every byte of the database file and its WAL, read while the server has them open.</summary>
    private static byte[] StoreFiles(TestServer server)
    {
        using var all = new MemoryStream();
        foreach (var path in new[] { server.DbPath, server.DbPath + "-wal" })
        {
            if (!File.Exists(path))
            {
                continue;
            }

            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            file.CopyTo(all);
        }

        return all.ToArray();
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    [Fact]
    public async Task A_deleted_messages_text_and_its_edits_are_in_neither_the_database_file_nor_its_wal()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        var ben = await server.UserAsync("ben");
        var room = await amy.CreateRoomAsync("secrets");
        await ben.JoinAsync(room);

        var said = "said-" + Guid.NewGuid().ToString("N");
        var edited = "edited-" + Guid.NewGuid().ToString("N");
        var longOne = "long-" + Guid.NewGuid().ToString("N");
        var kept = "kept-" + Guid.NewGuid().ToString("N");

        // A short message with an edit and a reaction, and a long one (its text spills to overflow pages).
        await (await amy.SendAsync(room, new { text = $"the password is {said}" })).JsonAsync(HttpStatusCode.Created);          // 1
        await (await amy.SendAsync(room, new { text = $"never mind, {kept}" })).JsonAsync(HttpStatusCode.Created);              // 2
        await (await amy.EditAsync(room, 1, new { text = $"the password is {edited}" })).JsonAsync();                          // 3
        await (await ben.ReactAsync(room, 1, "🙈", on: true)).JsonAsync();                                                     // 4
        await (await ben.SendAsync(room, new { text = longOne + new string('z', 3900) + longOne })).JsonAsync(HttpStatusCode.Created); // 5
        var before = StoreFiles(server);
        Assert.True(Contains(before, said) && Contains(before, edited) && Contains(before, longOne), "the texts were written before the deletion");

        await (await amy.DeleteMessageAsync(room, 1)).JsonAsync();
        await (await ben.DeleteMessageAsync(room, 5)).JsonAsync();

        var after = StoreFiles(server);
        Assert.False(Contains(after, said), "the deleted message's text is still in the store's files");
        Assert.False(Contains(after, edited), "the deleted message's edit is still in the store's files");
        Assert.False(Contains(after, longOne), "the deleted long message's text is still in the store's files");
        Assert.True(Contains(after, kept), "a message that was not deleted is in the files (the search itself works)");

        // What clients see agrees: the message is deleted and nothing it said is served.
        var history = await amy.HistoryAsync(room);
        Assert.Equal([true, false, true], history.Select(m => m.GetProperty("deleted").GetBoolean()));
        Assert.DoesNotContain(history, m => m.GetProperty("text").GetString()!.Contains(said, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Text_deleted_before_a_restart_is_still_gone_from_the_files_after_it()
    {
        var secret = "secret-" + Guid.NewGuid().ToString("N");
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        var room = await amy.CreateRoomAsync("r");
        for (var i = 0; i < 50; i++)
        {
            await (await amy.SendAsync(room, new { text = i == 25 ? secret : $"filler {i} " + new string('f', 200) })).JsonAsync(HttpStatusCode.Created);
        }

        await (await amy.DeleteMessageAsync(room, 26)).JsonAsync();
        for (var i = 0; i < 50; i++)
        {
            await (await amy.SendAsync(room, new { text = $"more {i}" })).JsonAsync(HttpStatusCode.Created);
        }

        await server.RestartAsync();
        Assert.False(Contains(StoreFiles(server), secret));
        Assert.True((await amy.MessageAsync(room, 26)).GetProperty("deleted").GetBoolean());
    }
}
