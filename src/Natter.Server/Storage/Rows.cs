using System.Data.Common;
using System.Globalization;

namespace Natter.Server.Storage;

/// <summary>
/// Row mappers both stores share: each store's SQL selects these columns in this order. Text comes back as text
/// from both (the MySQL store converts its binary client_id in its SELECTs).
/// </summary>
internal static class Rows
{
    /// <summary>id, username, password_hash, status.</summary>
    public static User User(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3));

    /// <summary>s.id, s.user_id, u.username, s.expires_at (Unix ms).</summary>
    public static Session Session(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)));

    /// <summary>id, name, kind.</summary>
    public static Room Room(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2));

    /// <summary>user_id, username.</summary>
    public static RoomMember Member(DbDataReader r) => new(r.GetInt64(0), r.GetString(1));

    /// <summary>id, name (the other member's username for a direct room), kind, last_seq, read_seq.</summary>
    public static MyRoom MyRoom(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4));

    /// <summary>id, name, member count.</summary>
    public static PublicRoom PublicRoom(DbDataReader r) => new(r.GetString(0), r.GetString(1), checked((int)r.GetInt64(2)));

    /// <summary>id, name, kind, last_seq, read_seq, mention count, topic, visibility, role, member count.</summary>
    public static MyRoom MyRoomWithMentions(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), checked((int)r.GetInt64(5)))
        {
            Topic = r.GetString(6),
            Visibility = r.GetString(2) == RoomKinds.Direct ? RoomVisibility.Private : r.GetString(7),
            Role = r.GetString(2) == RoomKinds.Direct ? RoomRoles.Member : r.GetString(8),
            Members = checked((int)r.GetInt64(9)),
        };

    /// <summary>
    /// The columns <see cref="Event"/> reads, in its order (m = messages, u = users), with the store's expression for
    /// client_id as text. The new columns of schema 2 may be NULL for a message (SQLite keeps a plain message's row as
    /// small as v1's; MySQL 8 allows no literal default on TEXT): kind NULL is "message", deleted NULL is 0.
    /// </summary>
    public static string EventColumns(string clientId) =>
        $"m.seq, COALESCE(m.kind, 'message'), m.sender_id, u.username, m.text, m.ts, {clientId}, COALESCE(m.mentions, ''), m.reply_to, COALESCE(m.deleted, 0), m.target, m.emoji, m.reaction_on";

    /// <summary>One log entry of the given room (columns: <see cref="EventColumns"/>).</summary>
    public static StoredEvent Event(DbDataReader r, string room) =>
        new(room, r.GetInt64(0), EventKinds.Parse(r.GetString(1)), r.GetInt64(2), r.GetString(3), r.GetInt64(5), r.GetString(6))
        {
            Text = r.GetString(4),
            Mentions = SplitMentions(r.GetString(7)),
            ReplyTo = r.IsDBNull(8) ? null : r.GetInt64(8),
            Deleted = Flag(r, 9),
            Target = r.IsDBNull(10) ? 0 : r.GetInt64(10),
            Emoji = r.IsDBNull(11) ? null : r.GetString(11),
            On = !r.IsDBNull(12) && Flag(r, 12),
        };

    /// <summary>The columns <see cref="Message"/> reads: a message's current text and mentions are the latest edit's.</summary>
    public static string MessageColumns(string clientId) =>
        $"m.seq, m.sender_id, u.username, COALESCE(m.edited_text, m.text), m.ts, {clientId}, COALESCE(m.edited_mentions, m.mentions, ''), m.reply_to, m.edited_ts, COALESCE(m.deleted, 0)";

    /// <summary>A message of the given room in its current state, without its reactions (columns: <see cref="MessageColumns"/>).</summary>
    public static MessageState Message(DbDataReader r, string room) =>
        new(room, r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetString(5))
        {
            Mentions = SplitMentions(r.GetString(6)),
            ReplyTo = r.IsDBNull(7) ? null : r.GetInt64(7),
            EditedTs = r.IsDBNull(8) ? null : r.GetInt64(8),
            Deleted = Flag(r, 9),
        };

    /// <summary>Attaches reactions, read as (target, emoji, username) rows ordered by target then by the reaction's seq.</summary>
    public static List<MessageState> WithReactions(List<MessageState> messages, IEnumerable<(long Target, string Emoji, string User)> rows)
    {
        var byTarget = new Dictionary<long, List<(string Emoji, List<string> Users)>>();
        foreach (var (target, emoji, user) in rows)
        {
            if (!byTarget.TryGetValue(target, out var list))
            {
                byTarget[target] = list = [];
            }

            // Rows come in reaction order, so an emoji's first row is its earliest reaction still on.
            var i = list.FindIndex(x => string.Equals(x.Emoji, emoji, StringComparison.Ordinal));
            if (i < 0)
            {
                list.Add((emoji, [user]));
            }
            else
            {
                list[i].Users.Add(user);
            }
        }

        for (var i = 0; i < messages.Count; i++)
        {
            if (byTarget.TryGetValue(messages[i].Seq, out var reactions))
            {
                messages[i] = messages[i] with { Reactions = [.. reactions.Select(x => new Reaction(x.Emoji, x.Users))] };
            }
        }

        return messages;
    }

    /// <summary>Mentions are stored as one string of usernames separated by spaces (a username has none).</summary>
    public static string JoinMentions(IEnumerable<string> usernames) => string.Join(' ', usernames);

    public static IReadOnlyList<string> SplitMentions(string stored) =>
        stored.Length == 0 ? [] : stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A 0/1 column (an INTEGER in SQLite, a TINYINT that MySqlConnector may read as bool).</summary>
    private static bool Flag(DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture) != 0;

    public static string FirstString(DbDataReader r) => r.GetString(0);
}
