using System.Data;
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

    /// <summary>
    /// One transaction per completion: the uploader's row is locked first (MySQL; SQLite's transaction holds the only
    /// write lock), so two completions of one user take turns and the second sees the first's size. Uploads in
    /// parallel can thus never pass the quota together, although each was checked against it when it began.
    /// </summary>
    public async Task<bool> CompleteFileAsync(string id, long size, string contentType, bool isImage, long quotaBytes, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
        if (await ScalarInAsync(conn, tx, "SELECT uploader_id FROM files WHERE id = @f AND state = 'uploading'", ct, ("@f", id)) is not { } found)
        {
            return false;
        }

        var uploader = Convert.ToInt64(found, CultureInfo.InvariantCulture);
        if (LocksRows)
        {
            await ScalarInAsync(conn, tx, "SELECT id FROM users WHERE id = @u" + ForUpdate, ct, ("@u", uploader));
        }

        var used = Convert.ToInt64(await ScalarInAsync(conn, tx, "SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader_id = @u AND state <> 'freed'", ct,
            ("@u", uploader)), CultureInfo.InvariantCulture);
        if (used + size > quotaBytes)
        {
            return false;
        }

        await ExecuteInAsync(conn, tx, "UPDATE files SET size = @s, content_type = @c, is_image = @i, state = 'ready' WHERE id = @f AND state = 'uploading'", ct,
            ("@f", id), ("@s", size), ("@c", contentType), ("@i", isImage ? 1 : 0));
        await tx.CommitAsync(ct);
        return true;
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

    /// <summary>
    /// Frees ready files created before <paramref name="createdBefore"/> (Unix ms) that no message lists and that are
    /// nobody's avatar, at most <paramref name="limit"/>; the sweep then removes them. Each is freed in its own
    /// transaction with its row locked first (MySQL), as a send locks the rows of the files it attaches: a send and
    /// this end in one order, so a stored message never lists a freed file (a send after it is refused).
    /// </summary>
    public async Task<int> FreeUnattachedFilesAsync(long createdBefore, int limit, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        var ids = await conn.ListAsync(
            """
            SELECT f.id FROM files f
            WHERE f.state = 'ready' AND f.created_at < @t
                AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id)
                AND NOT EXISTS (SELECT 1 FROM users au WHERE au.avatar_file = f.id)
            LIMIT @l
            """, Rows.FirstString, ct, ("@t", createdBefore), ("@l", limit));
        var freed = 0;
        foreach (var id in ids)
        {
            await using var tx = await BeginTransactionAsync(conn, IsolationLevel.ReadCommitted, ct);
            if (LocksRows)
            {
                await ScalarInAsync(conn, tx, "SELECT id FROM files WHERE id = @f" + ForUpdate, ct, ("@f", id));
            }

            freed += await ExecuteInAsync(conn, tx, FileRows.FreeIfUnlisted + " AND created_at < @t", ct, ("@f", id), ("@t", createdBefore));
            await tx.CommitAsync(ct);
        }

        return freed;
    }
}
