namespace Natter.Server.Storage.Sqlite;

/// <summary>
/// The group commit's part in file metadata: linking a message's files, freeing them on deletion (the rest of
/// <see cref="IFileStore"/> is in the shared Portable.PortableChatStore).
/// </summary>
public sealed partial class SqliteChatStore
{
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
