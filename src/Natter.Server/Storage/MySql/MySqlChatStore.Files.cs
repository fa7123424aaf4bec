using System.Data.Common;

namespace Natter.Server.Storage.MySql;

/// <summary>File metadata (IFileStore) and the group commit's part in it (see SqliteChatStore.Files).</summary>
public sealed partial class MySqlChatStore
{
    public async Task AddUploadingFileAsync(string id, long uploaderId, string name, long now, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("INSERT INTO files (id, uploader_id, name, state, created_at) VALUES (@f, @u, @n, 'uploading', @t)", ct,
            ("@f", id), ("@u", uploaderId), ("@n", name), ("@t", now));
    }

    public async Task<long> GetUsedBytesAsync(long uploaderId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return Convert.ToInt64(await conn.ScalarAsync("SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader_id = @u AND state <> 'freed'", ct,
            ("@u", uploaderId)), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task CompleteFileAsync(string id, long size, string contentType, bool isImage, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("UPDATE files SET size = @s, content_type = @c, is_image = @i, state = 'ready' WHERE id = @f AND state = 'uploading'", ct,
            ("@f", id), ("@s", size), ("@c", contentType), ("@i", isImage ? 1 : 0));
    }

    public async Task RemoveFileAsync(string id, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("DELETE FROM files WHERE id = @f AND state <> 'ready'", ct, ("@f", id));
    }

    public async Task<IReadOnlyList<FileRecord>> FindFilesAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        await using var conn = await OpenAsync(ct);
        var names = ids.Select((_, i) => "@f" + i).ToArray();
        return await conn.ListAsync(
            $"SELECT {FileRows.Columns}, f.uploader_id FROM files f WHERE f.state = 'ready' AND f.id IN ({string.Join(", ", names)})",
            r => new FileRecord(FileRows.File(r), r.GetInt64(5)), ct, [.. ids.Select((id, i) => (names[i], (object?)id))]);
    }

    public async Task<FileRef?> FindReadableFileAsync(string id, long userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.FirstOrDefaultAsync(FileRows.FindReadable, r => FileRows.File(r), ct, ("@f", id), ("@u", userId));
    }

    public async Task<IReadOnlyList<string>> ListFilesToSweepAsync(long abandonedBefore, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ListAsync(
            "SELECT id FROM files WHERE state = 'freed' OR (state = 'uploading' AND created_at < @t) LIMIT @l",
            Rows.FirstString, ct, ("@t", abandonedBefore), ("@l", limit));
    }

    /// <summary>
    /// The batch's files that may be attached: ready, with their uploader. The rows are locked (FOR UPDATE), as a
    /// deletion locks them before freeing: a send listing a file and the deletion of the last other message listing
    /// it, on two nodes, end in one order, never in a message that lists a freed file.
    /// </summary>
    private static async Task<Dictionary<string, long>> LockUsableFilesAsync(DbTransaction tx, IEnumerable<NewEvent> batch, CancellationToken ct)
    {
        var usable = new Dictionary<string, long>(StringComparer.Ordinal);
        var ids = batch.SelectMany(e => e.Files).Select(f => f.Id).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var chunk in ids.Chunk(LookupChunk))
        {
            var names = chunk.Select((_, i) => "@f" + i).ToArray();
            foreach (var (id, uploader) in await tx.ListAsync(
                $"SELECT id, uploader_id FROM files WHERE id IN ({string.Join(", ", names)}) AND state = 'ready' ORDER BY id FOR UPDATE",
                r => (r.GetString(0), r.GetInt64(1)), ct, [.. chunk.Select((id, i) => (names[i], (object?)id))]))
            {
                usable[id] = uploader;
            }
        }

        return usable;
    }

    private static async Task LinkFilesAsync(DbTransaction tx, IEnumerable<StoredEvent> stored, CancellationToken ct)
    {
        foreach (var e in stored)
        {
            for (var i = 0; i < e.Files.Count; i++)
            {
                await tx.ExecuteAsync("INSERT INTO message_files (room_id, seq, position, file_id) VALUES (@r, @s, @p, @f)", ct,
                    ("@r", e.Room), ("@s", e.Seq), ("@p", i), ("@f", e.Files[i].Id));
            }
        }
    }

    /// <summary>A deletion: the message lists no files any more, and each file no other message lists is freed (rows locked first).</summary>
    private static async Task UnlinkFilesAsync(DbTransaction tx, string room, long target, CancellationToken ct)
    {
        var files = await tx.ListAsync(
            "SELECT f.id FROM message_files mf JOIN files f ON f.id = mf.file_id WHERE mf.room_id = @r AND mf.seq = @g ORDER BY f.id FOR UPDATE",
            Rows.FirstString, ct, ("@r", room), ("@g", target));
        if (files.Count == 0)
        {
            return;
        }

        await tx.ExecuteAsync("DELETE FROM message_files WHERE room_id = @r AND seq = @g", ct, ("@r", room), ("@g", target));
        foreach (var file in files)
        {
            await tx.ExecuteAsync(FileRows.FreeIfUnlisted, ct, ("@f", file));
        }
    }
}
