using System.Data;

namespace Natter.Server.Storage.MySql;

/// <summary>Reading a room's log and its messages' current state.</summary>
public sealed partial class MySqlChatStore
{
    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var list = await conn.ListAsync(
            $"""
            SELECT {Rows.EventColumns(ClientIdText)}
            FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = @r AND m.seq > @a AND m.seq < @b
            ORDER BY m.seq {(oldestFirst ? "ASC" : "DESC")} LIMIT @l
            """,
            r => Rows.Event(r, roomId), ct, ("@r", roomId), ("@a", afterSeq), ("@b", beforeSeq), ("@l", limit));
        if (!oldestFirst)
        {
            list.Reverse();
        }

        return await FileRows.WithFilesAsync(conn, null, roomId, list, ct);
    }

    public async Task<IReadOnlyList<MessageState>> ReadMessagesAsync(string roomId, long afterSeq, long beforeSeq, int limit, bool oldestFirst, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // One snapshot for the messages and their reactions.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var list = await tx.ListAsync(
            $"""
            SELECT {Rows.MessageColumns(ClientIdText)}
            FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = @r AND m.seq > @a AND m.seq < @b AND m.kind = 'message'
            ORDER BY m.seq {(oldestFirst ? "ASC" : "DESC")} LIMIT @l
            """,
            r => Rows.Message(r, roomId), ct, ("@r", roomId), ("@a", afterSeq), ("@b", beforeSeq), ("@l", limit));
        if (!oldestFirst)
        {
            list.Reverse();
        }

        if (list.Count == 0)
        {
            return list;
        }

        var reactions = await tx.ListAsync(
            """
            SELECT x.target, x.emoji, u.username FROM reactions x JOIN users u ON u.id = x.user_id
            WHERE x.room_id = @r AND x.target >= @lo AND x.target <= @hi ORDER BY x.target, x.seq
            """,
            r => (r.GetInt64(0), r.GetString(1), r.GetString(2)), ct, ("@r", roomId), ("@lo", list[0].Seq), ("@hi", list[^1].Seq));
        var withFiles = await FileRows.WithFilesAsync(conn, tx, roomId, Rows.WithReactions(list, reactions), ct);
        await tx.CommitAsync(ct);
        return withFiles;
    }
}
