using System.Data.Common;

namespace Natter.Server.Storage.MySql;

/// <summary>The group commit's part in roles (the rest of <see cref="IRoomAdminStore"/> is in the shared Portable.PortableChatStore).</summary>
public sealed partial class MySqlChatStore
{
    /// <summary>(room, user) of the owners and moderators among the senders of the batch's deletions (the delete rule).</summary>
    private static async Task<HashSet<(string Room, long User)>> ReadModeratorsAsync(DbConnection db, IReadOnlyList<NewEvent> batch, CancellationToken ct)
    {
        var found = new HashSet<(string, long)>();
        foreach (var (room, sender) in batch.Where(e => e.Kind == EventKind.Delete).Select(e => (e.Room, e.SenderId)).Distinct())
        {
            if (RoomRoles.Moderates(await db.ScalarAsync("SELECT role FROM members WHERE room_id = @r AND user_id = @u", ct,
                ("@r", room), ("@u", sender)) as string))
            {
                found.Add((room, sender));
            }
        }

        return found;
    }
}
