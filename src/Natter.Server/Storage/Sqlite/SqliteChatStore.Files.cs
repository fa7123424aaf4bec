namespace Natter.Server.Storage.Sqlite;

/// <summary>File metadata (IFileStore) and the group commit's part in it: linking a message's files, freeing them on deletion.</summary>
public sealed partial class SqliteChatStore
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
        return (long)(await conn.ScalarAsync("SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader_id = @u AND state <> 'freed'", ct, ("@u", uploaderId)))!;
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

    /// <summary>In the group commit: every file of the message is still ready and the sender's (a deletion may have freed one since the send was checked).</summary>
    private static async Task<bool> FilesUsableAsync(CommandCache cmds, NewEvent e, CancellationToken ct)
    {
        foreach (var file in e.Files)
        {
            var ok = await cmds.ListAsync("SELECT 1 FROM files WHERE id = @f AND state = 'ready' AND uploader_id = @u", r => true, ct,
                ("@f", file.Id), ("@u", e.SenderId));
            if (ok.Count == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task LinkFilesAsync(CommandCache cmds, NewEvent e, long seq, CancellationToken ct)
    {
        for (var i = 0; i < e.Files.Count; i++)
        {
            await cmds.ExecuteAsync("INSERT INTO message_files (room_id, seq, position, file_id) VALUES (@r, @s, @p, @f)", ct,
                ("@r", e.Room), ("@s", seq), ("@p", i), ("@f", e.Files[i].Id));
        }
    }

    /// <summary>A deletion: the message lists no files any more, and each file no other message lists is freed.</summary>
    private static async Task<bool> UnlinkFilesAsync(CommandCache cmds, string room, long target, CancellationToken ct)
    {
        var files = await cmds.ListAsync("SELECT file_id FROM message_files WHERE room_id = @r AND seq = @g", Rows.FirstString, ct, ("@r", room), ("@g", target));
        if (files.Count == 0)
        {
            return false;
        }

        await cmds.ExecuteAsync("DELETE FROM message_files WHERE room_id = @r AND seq = @g", ct, ("@r", room), ("@g", target));
        foreach (var file in files)
        {
            await cmds.ExecuteAsync(FileRows.FreeIfUnlisted, ct, ("@f", file));
        }

        return true;
    }
}
