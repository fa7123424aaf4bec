using System.Net;
using System.Text;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

/// <summary>
/// The search index forgets a deleted message as the room log does: its words (as sent and as edited) are in neither
/// the SQLite file nor its WAL once the deletion is acked, and search no longer finds it.
/// </summary>
public sealed class SearchSecureDeleteTests
{
    private static byte[] StoreFiles(TestServer server)
    {
        using var all = new MemoryStream();
        foreach (var path in new[] { server.DbPath, server.DbPath + "-wal" })
        {
            if (File.Exists(path))
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                file.CopyTo(all);
            }
        }

        return all.ToArray();
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    [Fact]
    public async Task A_deleted_messages_words_leave_the_search_index_and_its_pages()
    {
        await using var server = await TestServer.StartAsync();
        var amy = await server.UserAsync("amy");
        var room = await amy.CreateRoomAsync("secrets");

        // One word each (letters and digits only), so the index holds them whole.
        var said = "qx" + Guid.NewGuid().ToString("N");
        var edited = "qy" + Guid.NewGuid().ToString("N");
        var kept = "qk" + Guid.NewGuid().ToString("N");
        for (var i = 0; i < 30; i++)
        {
            await amy.PostMessageAsync(room, $"filler number {i} with some words");
        }

        var seq = await amy.PostMessageAsync(room, $"the code is {said}");
        await amy.PostMessageAsync(room, $"keep {kept}");
        await (await amy.EditAsync(room, seq, new { text = $"the code is {edited}" })).JsonAsync();
        using (var http = amy.Http())
        {
            var found = await (await http.GetAsync($"/api/search?q={edited}", TestContext.Current.CancellationToken)).JsonAsync();
            Assert.Equal(1, found.GetProperty("results").GetArrayLength());
        }

        // Three more commits, so the words sit in several index segments, not only the latest one.
        for (var i = 0; i < 3; i++)
        {
            await amy.PostMessageAsync(room, $"later {i}");
        }

        await (await amy.DeleteMessageAsync(room, seq)).JsonAsync();

        var after = StoreFiles(server);
        Assert.False(Contains(after, said[2..]), "the deleted message's word is still in the store's files");
        Assert.False(Contains(after, edited[2..]), "the deleted message's edited word is still in the store's files");
        Assert.True(Contains(after, kept[2..]), "a kept message's word is in the files (the search itself works)");
        using (var http = amy.Http())
        {
            foreach (var word in new[] { said, edited })
            {
                var found = await (await http.GetAsync($"/api/search?q={word}", TestContext.Current.CancellationToken)).JsonAsync();
                Assert.Equal(0, found.GetProperty("results").GetArrayLength());
            }
        }
    }
}
