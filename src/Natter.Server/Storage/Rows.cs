using System.Data.Common;

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

    /// <summary>seq, sender_id, username, text, ts, client_id of a message in the given room.</summary>
    public static StoredMessage Message(DbDataReader r, string room) =>
        new(room, r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetString(5));

    public static string FirstString(DbDataReader r) => r.GetString(0);
}
