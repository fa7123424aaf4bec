using System.Data.Common;
using System.Globalization;

namespace Natter.Server.Storage;

/// <summary>The SQL of roles, room settings and bans that reads the same on SQLite and MySQL, and its row readers.</summary>
internal static class RoomSql
{
    /// <summary>id, name, kind, topic, visibility, member count, last_seq of a room that is not deleted.</summary>
    public const string Info = """
        SELECT r.id, r.name, r.kind, r.topic, r.visibility, (SELECT COUNT(*) FROM members m WHERE m.room_id = r.id), r.last_seq
        FROM rooms r WHERE r.id = @r AND r.deleted_at IS NULL
        """;

    public static RoomInfo ReadInfo(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
        checked((int)Convert.ToInt64(r.GetValue(5), CultureInfo.InvariantCulture)), r.GetInt64(6));

    public const string MembersWithRoles = """
        SELECT m.user_id, u.username, m.role FROM members m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = @r ORDER BY m.joined_at, m.user_id
        """;

    public static MemberInfo ReadMember(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2));

    /// <summary>Who becomes owner when the owner leaves: the longest-standing moderator, else the longest-standing member.</summary>
    public const string Successor = """
        SELECT m.user_id, u.username, m.role FROM members m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = @r ORDER BY CASE WHEN m.role = 'moderator' THEN 0 ELSE 1 END, m.joined_at, m.user_id LIMIT 1
        """;

    /// <summary>kind, visibility, banned (0/1), member (0/1), member count of room @r for user @u.</summary>
    public const string AddCheck = """
        SELECT r.kind, r.visibility,
               CASE WHEN EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = @u) THEN 1 ELSE 0 END,
               CASE WHEN EXISTS (SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = @u) THEN 1 ELSE 0 END,
               (SELECT COUNT(*) FROM members m WHERE m.room_id = r.id)
        FROM rooms r WHERE r.id = @r AND r.deleted_at IS NULL
        """;

    public readonly record struct AddFacts(string Kind, string Visibility, bool Banned, bool Member, long Count);

    public static AddFacts? ReadAddCheck(DbDataReader r) => new AddFacts(r.GetString(0), r.GetString(1),
        Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture) != 0, Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture) != 0,
        Convert.ToInt64(r.GetValue(4), CultureInfo.InvariantCulture));

    /// <summary>Whether the user may be added (in this order): the room, its kind, a ban, already a member, an invitation, the member limit.</summary>
    public static AddMemberOutcome Decide(AddFacts? room, bool invited, int maxMembers) => room switch
    {
        null => AddMemberOutcome.NotFound,
        { Kind: RoomKinds.Direct } => AddMemberOutcome.DirectRoom,
        { Banned: true } => AddMemberOutcome.Banned,
        { Member: true } => AddMemberOutcome.AlreadyMember,
        { Visibility: RoomVisibility.Private } when !invited => AddMemberOutcome.Private,
        { Count: var n } when n >= maxMembers => AddMemberOutcome.Full,
        _ => AddMemberOutcome.Added,
    };

    public const string Bans = """
        SELECT u.username FROM room_bans b JOIN users u ON u.id = b.user_id WHERE b.room_id = @r ORDER BY u.username
        """;

    public const string Update = """
        UPDATE rooms SET name = COALESCE(@n, name), topic = COALESCE(@topic, topic), visibility = COALESCE(@v, visibility)
        WHERE id = @r AND deleted_at IS NULL
        """;

    /// <summary>Everything a room held, then the room row becomes a deleted marker (@r the room, @t now).</summary>
    public static readonly string[] DeleteContent =
    [
        "DELETE FROM mentions WHERE room_id = @r",
        "DELETE FROM reactions WHERE room_id = @r",
        "DELETE FROM edits WHERE room_id = @r",
        "DELETE FROM messages WHERE room_id = @r",
        "DELETE FROM members WHERE room_id = @r",
        "DELETE FROM room_bans WHERE room_id = @r",
        "UPDATE rooms SET name = '', topic = '', deleted_at = @t WHERE id = @r",
    ];

    public const string Changes = """
        SELECT id, room_id, payload, ts FROM room_changes WHERE id > @a AND ts >= @s ORDER BY id LIMIT @l
        """;

    public static RoomChangeRow ReadChange(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt64(3));
}
