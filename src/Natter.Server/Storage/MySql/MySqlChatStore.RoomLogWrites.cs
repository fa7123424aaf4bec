using System.Data.Common;
using System.Globalization;
using System.Text;
using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// The group commit's reads and writes of the room log: stored client_ids, the new log entries, last_seq, the
/// targets of edits, deletions and reactions, mentions, and the current state they change.
/// </summary>
public sealed partial class MySqlChatStore
{
    /// <summary>
    /// The stored events with these client_ids (any kind). A row constructor IN list: the optimiser builds its ranges
    /// far faster than for the same triples OR'ed.
    /// </summary>
    private static async Task<Dictionary<ClientKey, StoredEvent>> StoredClientIdsAsync(DbConnection db, IEnumerable<ClientKey> wanted, CancellationToken ct)
    {
        var existing = new Dictionary<ClientKey, StoredEvent>();
        foreach (var chunk in wanted.Distinct().Chunk(LookupChunk))
        {
            var sql = new StringBuilder($"SELECT {Rows.EventColumns(ClientIdText)}, m.room_id FROM messages m JOIN users u ON u.id = m.sender_id WHERE (m.room_id, m.sender_id, m.client_id) IN (");
            var args = new List<(string, object?)>(chunk.Length * 3);
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@r{i}, @s{i}, @c{i})");
                args.Add(("@r" + i, chunk[i].Room));
                args.Add(("@s" + i, chunk[i].Sender));
                args.Add(("@c" + i, ClientIdBytes(chunk[i].ClientId)));
            }

            foreach (var e in await db.ListAsync(sql.Append(')').ToString(), r => Rows.Event(r, r.GetString(13)), ct, [.. args]))
            {
                existing[new ClientKey(e.Room, e.SenderId, e.ClientId)] = e;
            }
        }

        return existing;
    }

    /// <summary>The batch's new log entries: plain messages with v1's six columns (the statement v1 sent), the others with every column.</summary>
    private static async Task InsertEventsAsync(MySqlScript script, IReadOnlyList<StoredEvent> fresh, CancellationToken ct)
    {
        foreach (var chunk in fresh.Where(IsPlain).Chunk(InsertChunk))
        {
            script.Text("INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var s = chunk[i];
                script.Text(i == 0 ? "(" : ", (").Value(s.Room).Text(", ").Value(s.Seq).Text(", ").Value(s.SenderId).Text(", ")
                    .Value(s.Text).Text(", ").Value(s.Ts).Text(", ").Value(ClientIdBytes(s.ClientId)).Text(")");
            }

            await script.EndAsync(ct);
        }

        foreach (var chunk in fresh.Where(e => !IsPlain(e)).Chunk(InsertChunk))
        {
            script.Text("INSERT INTO messages (room_id, seq, sender_id, text, ts, client_id, kind, mentions, reply_to, target, emoji, reaction_on) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var s = chunk[i];
                script.Text(i == 0 ? "(" : ", (").Value(s.Room).Text(", ").Value(s.Seq).Text(", ").Value(s.SenderId).Text(", ")
                    .Value(s.Text).Text(", ").Value(s.Ts).Text(", ").Value(ClientIdBytes(s.ClientId)).Text(", ")
                    .Value(EventKinds.Name(s.Kind)).Text(", ").Value(s.Mentions.Count == 0 ? null : Rows.JoinMentions(s.Mentions)).Text(", ")
                    .Value(s.ReplyTo).Text(", ").Value(s.Kind == EventKind.Message ? null : s.Target).Text(", ")
                    .Value(s.Emoji).Text(", ").Value(s.Kind == EventKind.Reaction ? (s.On ? 1 : 0) : null).Text(")");
            }

            await script.EndAsync(ct);
        }
    }

    /// <summary>Every changed room's last_seq in one statement (the rows are locked by this transaction).</summary>
    private static void SetLastSeqs(MySqlScript script, IReadOnlyCollection<string> rooms, Dictionary<string, long> lastSeq)
    {
        script.Text("UPDATE rooms SET last_seq = CASE id");
        foreach (var room in rooms)
        {
            script.Text(" WHEN ").Value(room).Text(" THEN ").Value(lastSeq[room]);
        }

        script.Text(" END WHERE id IN (");
        var first = true;
        foreach (var room in rooms)
        {
            script.Text(first ? "" : ", ").Value(room);
            first = false;
        }

        script.Text(")");
    }

    /// <summary>The messages the batch's edits, deletions, reactions and replies name, and the reactions on reaction targets.</summary>
    private static async Task<(Dictionary<MessageKey, TargetState>, Dictionary<MessageKey, List<(string Emoji, long UserId)>>)> ReadTargetsAsync(
        DbConnection db, IReadOnlyList<NewEvent> batch, CancellationToken ct)
    {
        var targets = new Dictionary<MessageKey, TargetState>();
        var reactions = new Dictionary<MessageKey, List<(string Emoji, long UserId)>>();
        var wanted = batch.Where(e => !e.IsPlainMessage)
            .Select(e => (e.Room, Seq: e.Kind == EventKind.Message ? e.ReplyTo!.Value : e.Target, IsReaction: e.Kind == EventKind.Reaction))
            .Distinct()
            .ToList();
        foreach (var room in wanted.GroupBy(w => w.Room, StringComparer.Ordinal))
        {
            foreach (var chunk in room.Select(w => w.Seq).Distinct().Chunk(LookupChunk))
            {
                var names = chunk.Select((_, i) => "@s" + i).ToArray();
                var args = chunk.Select((s, i) => (names[i], (object?)s)).Append(("@r", room.Key)).ToArray();
                foreach (var (seq, state) in await db.ListAsync(
                    $"SELECT seq, kind, sender_id, deleted FROM messages WHERE room_id = @r AND seq IN ({string.Join(", ", names)})",
                    r => (r.GetInt64(0), new TargetState(EventKinds.Parse(r.GetString(1)), r.GetInt64(2), Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture) != 0)),
                    ct, args))
                {
                    targets[new MessageKey(room.Key, seq)] = state;
                }
            }

            foreach (var chunk in room.Where(w => w.IsReaction).Select(w => w.Seq).Distinct().Chunk(LookupChunk))
            {
                var names = chunk.Select((_, i) => "@s" + i).ToArray();
                var args = chunk.Select((s, i) => (names[i], (object?)s)).Append(("@r", room.Key)).ToArray();
                foreach (var (target, emoji, user) in await db.ListAsync(
                    $"SELECT target, emoji, user_id FROM reactions WHERE room_id = @r AND target IN ({string.Join(", ", names)}) ORDER BY seq",
                    r => (r.GetInt64(0), r.GetString(1), r.GetInt64(2)), ct, args))
                {
                    var key = new MessageKey(room.Key, target);
                    (reactions.TryGetValue(key, out var list) ? list : reactions[key] = []).Add((emoji, user));
                }
            }
        }

        return (targets, reactions);
    }

    private static async Task InsertMentionsAsync(DbConnection db, IReadOnlyList<(long UserId, string Room, long Seq)> mentions, CancellationToken ct)
    {
        foreach (var chunk in mentions.Chunk(InsertChunk))
        {
            var sql = new StringBuilder("INSERT IGNORE INTO mentions (user_id, room_id, seq) VALUES ");
            var args = new List<(string, object?)>(chunk.Length * 3);
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@u{i}, @r{i}, @s{i})");
                args.Add(("@u" + i, chunk[i].UserId));
                args.Add(("@r" + i, chunk[i].Room));
                args.Add(("@s" + i, chunk[i].Seq));
            }

            await db.ExecuteAsync(sql.ToString(), ct, [.. args]);
        }
    }

    /// <summary>The current state after an edit, a deletion or a reaction change (same changes as the SQLite store).</summary>
    private static async Task ApplyAsync(DbConnection db, NewEvent e, long seq, CancellationToken ct)
    {
        switch (e.Kind)
        {
            case EventKind.Edit:
                await db.ExecuteAsync("UPDATE messages SET edited_text = @x, edited_mentions = @m, edited_ts = @t WHERE room_id = @r AND seq = @g", ct,
                    ("@x", e.Text), ("@m", Rows.JoinMentions(e.Mentions.Select(m => m.Username))), ("@t", e.Ts), ("@r", e.Room), ("@g", e.Target));
                await db.ExecuteAsync("INSERT INTO edits (room_id, target, seq) VALUES (@r, @g, @s)", ct, ("@r", e.Room), ("@g", e.Target), ("@s", seq));
                await db.ExecuteAsync("DELETE FROM mentions WHERE room_id = @r AND seq = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await InsertMentionsAsync(db, [.. e.Mentions.Select(m => (m.UserId, e.Room, e.Target))], ct);
                break;
            case EventKind.Delete:
                // Everything the message said goes: its text and mentions, those of its edits, its reactions.
                await db.ExecuteAsync(
                    "UPDATE messages SET text = '', mentions = NULL, edited_text = NULL, edited_mentions = NULL, deleted = 1 WHERE room_id = @r AND seq = @g",
                    ct, ("@r", e.Room), ("@g", e.Target));
                await db.ExecuteAsync(
                    """
                    UPDATE messages m JOIN edits x ON x.room_id = m.room_id AND x.seq = m.seq
                    SET m.text = '', m.mentions = NULL WHERE x.room_id = @r AND x.target = @g
                    """, ct, ("@r", e.Room), ("@g", e.Target));
                await db.ExecuteAsync("DELETE FROM reactions WHERE room_id = @r AND target = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await db.ExecuteAsync("DELETE FROM mentions WHERE room_id = @r AND seq = @g", ct, ("@r", e.Room), ("@g", e.Target));
                await UnlinkFilesAsync(db, e.Room, e.Target, ct);
                break;
            case EventKind.Reaction when e.On:
                await db.ExecuteAsync("INSERT INTO reactions (room_id, target, emoji, user_id, seq) VALUES (@r, @g, @e, @u, @s)", ct,
                    ("@r", e.Room), ("@g", e.Target), ("@e", e.Emoji), ("@u", e.SenderId), ("@s", seq));
                break;
            case EventKind.Reaction:
                await db.ExecuteAsync("DELETE FROM reactions WHERE room_id = @r AND target = @g AND emoji = @e AND user_id = @u", ct,
                    ("@r", e.Room), ("@g", e.Target), ("@e", e.Emoji), ("@u", e.SenderId));
                break;
        }
    }
}
