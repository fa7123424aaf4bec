using System.Globalization;

namespace Natter.Server.Storage.Portable;

/// <summary>
/// File metadata (<see cref="IFileStore"/>). Which message lists which file is kept by each store's group commit
/// (its Files part), in the transaction of the message or its deletion.
/// </summary>
public abstract partial class PortableChatStore : IFileStore
{
    public async Task AddUploadingFileAsync(string id, long uploaderId, string name, long now, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await conn.ExecuteAsync("INSERT INTO files (id, uploader_id, name, state, created_at) VALUES (@f, @u, @n, 'uploading', @t)", ct,
            ("@f", id), ("@u", uploaderId), ("@n", name), ("@t", now));
    }

    /// <summary>SUM is a 64-bit integer in SQLite and a DECIMAL in MySQL: converted, not cast.</summary>
    public async Task<long> GetUsedBytesAsync(long uploaderId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return Convert.ToInt64(await conn.ScalarAsync("SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader_id = @u AND state <> 'freed'", ct,
            ("@u", uploaderId)), CultureInfo.InvariantCulture);
    }

    public async Task CompleteFileAsync(string id, long size, string contentType, bool isImage, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await conn.ExecuteAsync("UPDATE files SET size = @s, content_type = @c, is_image = @i, state = 'ready' WHERE id = @f AND state = 'uploading'", ct,
            ("@f", id), ("@s", size), ("@c", contentType), ("@i", isImage ? 1 : 0));
    }

    public async Task RemoveFileAsync(string id, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await conn.ExecuteAsync("DELETE FROM files WHERE id = @f AND state <> 'ready'", ct, ("@f", id));
    }

    public async Task<IReadOnlyList<FileRecord>> FindFilesAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        await using var conn = await OpenConnectionAsync(ct);
        var names = ids.Select((_, i) => "@f" + i).ToArray();
        return await conn.ListAsync(
            $"SELECT {FileRows.Columns}, f.uploader_id FROM files f WHERE f.state = 'ready' AND f.id IN ({string.Join(", ", names)})",
            r => new FileRecord(FileRows.File(r), r.GetInt64(5)), ct, [.. ids.Select((id, i) => (names[i], (object?)id))]);
    }

    public async Task<FileRef?> FindReadableFileAsync(string id, long userId, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.FirstOrDefaultAsync(FileRows.FindReadable, r => FileRows.File(r), ct, ("@f", id), ("@u", userId));
    }

    public async Task<IReadOnlyList<string>> ListFilesToSweepAsync(long abandonedBefore, int limit, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await conn.ListAsync(
            "SELECT id FROM files WHERE state = 'freed' OR (state = 'uploading' AND created_at < @t) LIMIT @l",
            Rows.FirstString, ct, ("@t", abandonedBefore), ("@l", limit));
    }
}
