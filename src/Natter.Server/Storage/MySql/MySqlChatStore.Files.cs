using System.Data.Common;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// The group commit's part in file metadata (see SqliteChatStore.Files); the rest of <see cref="IFileStore"/> is in
/// the shared Portable.PortableChatStore.
/// </summary>
public sealed partial class MySqlChatStore
{
    /// <summary>
    /// The batch's files that may be attached: ready, with their uploader. The rows are locked (FOR UPDATE), as a
    /// deletion locks them before freeing: a send listing a file and the deletion of the last other message listing
    /// it, on two nodes, end in one order, never in a message that lists a freed file.
    /// </summary>
    private static async Task<Dictionary<string, long>> LockUsableFilesAsync(DbConnection db, IEnumerable<NewEvent> batch, CancellationToken ct)
    {
        var usable = new Dictionary<string, long>(StringComparer.Ordinal);
        var ids = batch.SelectMany(e => e.Files).Select(f => f.Id).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var chunk in ids.Chunk(LookupChunk))
        {
            var names = chunk.Select((_, i) => "@f" + i).ToArray();
            foreach (var (id, uploader) in await db.ListAsync(
                $"SELECT id, uploader_id FROM files WHERE id IN ({string.Join(", ", names)}) AND state = 'ready' ORDER BY id FOR UPDATE",
                r => (r.GetString(0), r.GetInt64(1)), ct, [.. chunk.Select((id, i) => (names[i], (object?)id))]))
            {
                usable[id] = uploader;
            }
        }

        return usable;
    }

    private static async Task LinkFilesAsync(DbConnection db, IEnumerable<StoredEvent> stored, CancellationToken ct)
    {
        foreach (var e in stored)
        {
            for (var i = 0; i < e.Files.Count; i++)
            {
                await db.ExecuteAsync("INSERT INTO message_files (room_id, seq, position, file_id) VALUES (@r, @s, @p, @f)", ct,
                    ("@r", e.Room), ("@s", e.Seq), ("@p", i), ("@f", e.Files[i].Id));
            }
        }
    }

    /// <summary>A deletion: the message lists no files any more, and each file no other message lists is freed (rows locked first).</summary>
    private static async Task UnlinkFilesAsync(DbConnection db, string room, long target, CancellationToken ct)
    {
        var files = await db.ListAsync(
            "SELECT f.id FROM message_files mf JOIN files f ON f.id = mf.file_id WHERE mf.room_id = @r AND mf.seq = @g ORDER BY f.id FOR UPDATE",
            Rows.FirstString, ct, ("@r", room), ("@g", target));
        if (files.Count == 0)
        {
            return;
        }

        await db.ExecuteAsync("DELETE FROM message_files WHERE room_id = @r AND seq = @g", ct, ("@r", room), ("@g", target));
        foreach (var file in files)
        {
            await db.ExecuteAsync(FileRows.FreeIfUnlisted, ct, ("@f", file));
        }
    }
}
