using System.Data.Common;
using System.Globalization;

namespace Natter.Server.Storage;

/// <summary>The file SQL and mapping both stores share (the statements are plain SQL both engines run alike).</summary>
internal static class FileRows
{
    /// <summary>The columns <see cref="File"/> reads (f = files).</summary>
    public const string Columns = "f.id, f.name, f.size, f.content_type, f.is_image";

    public static FileRef File(DbDataReader r, int at = 0) =>
        new(r.GetString(at), r.GetString(at + 1), r.GetInt64(at + 2), r.GetString(at + 3), Convert.ToInt64(r.GetValue(at + 4), CultureInfo.InvariantCulture) != 0);

    /// <summary>
    /// The access rule of <see cref="IFileStore.FindReadableFileAsync"/>: ready, and the uploader, or a member of a room
    /// where a message lists the file. (@f file id, @u user id.) An avatar rule would be one more OR EXISTS here.
    /// </summary>
    public const string FindReadable = $"""
        SELECT {Columns} FROM files f
        WHERE f.id = @f AND f.state = 'ready' AND (
            f.uploader_id = @u
            OR EXISTS (SELECT 1 FROM message_files mf JOIN members m ON m.room_id = mf.room_id AND m.user_id = @u WHERE mf.file_id = f.id))
        """;

    /// <summary>
    /// Inside the transaction of a deletion, after the message's message_files rows are gone: the file becomes freed
    /// when no other message lists it (@f file id). A file something else keeps (an avatar) would be excluded here too.
    /// </summary>
    public const string FreeIfUnlisted = """
        UPDATE files SET state = 'freed'
        WHERE id = @f AND state = 'ready' AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = @f)
        """;

    /// <summary>The files of the messages with seq in [@lo, @hi] of room @r, in each message's order.</summary>
    public const string OfMessages = $"""
        SELECT mf.seq, {Columns} FROM message_files mf JOIN files f ON f.id = mf.file_id
        WHERE mf.room_id = @r AND mf.seq >= @lo AND mf.seq <= @hi ORDER BY mf.seq, mf.position
        """;

    public static async Task<Dictionary<long, List<FileRef>>> OfMessagesAsync(DbConnection conn, DbTransaction? tx, string room, long lo, long hi, CancellationToken ct)
    {
        var byMessage = new Dictionary<long, List<FileRef>>();
        await using var cmd = conn.Command(tx, OfMessages, ("@r", room), ("@lo", lo), ("@hi", hi));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var seq = r.GetInt64(0);
            (byMessage.TryGetValue(seq, out var list) ? list : byMessage[seq] = []).Add(File(r, 1));
        }

        return byMessage;
    }

    /// <summary>The log entries with the files of their messages.</summary>
    public static async Task<List<StoredEvent>> WithFilesAsync(DbConnection conn, DbTransaction? tx, string room, List<StoredEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return events;
        }

        var files = await OfMessagesAsync(conn, tx, room, events[0].Seq, events[^1].Seq, ct);
        if (files.Count == 0)
        {
            return events;
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Kind == EventKind.Message && files.TryGetValue(events[i].Seq, out var list))
            {
                events[i] = events[i] with { Files = list };
            }
        }

        return events;
    }

    /// <summary>The messages with their files.</summary>
    public static async Task<List<MessageState>> WithFilesAsync(DbConnection conn, DbTransaction? tx, string room, List<MessageState> messages, CancellationToken ct)
    {
        if (messages.Count == 0)
        {
            return messages;
        }

        var files = await OfMessagesAsync(conn, tx, room, messages[0].Seq, messages[^1].Seq, ct);
        for (var i = 0; files.Count > 0 && i < messages.Count; i++)
        {
            if (files.TryGetValue(messages[i].Seq, out var list))
            {
                messages[i] = messages[i] with { Files = list };
            }
        }

        return messages;
    }
}
