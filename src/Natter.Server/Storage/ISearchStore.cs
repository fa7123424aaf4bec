namespace Natter.Server.Storage;

/// <summary>
/// Full-text search over messages (protocol v2 §2). Each store keeps its index in the same transaction as the room
/// log, so a stored message is searchable once acked, an edit is found by its new words only, and a deletion
/// leaves the index with the message.
/// </summary>
public interface ISearchStore
{
    /// <summary>
    /// Messages, newest first (in the order the store took them), that are not deleted, in rooms the user is a member
    /// of now, whose current text has, for every query word, a word starting with it (words: <see cref="SearchWords"/>).
    /// At most query.Limit hits, all older than query.Before; Next is set when there may be more.
    /// </summary>
    Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken ct);
}

/// <summary>
/// Words: normalised query words (<see cref="SearchWords.Query"/>), at least one. Room and From (a username)
/// narrow the search when set. Before: a position from an earlier page's Next (null for the first page).
/// </summary>
public sealed record SearchQuery(long UserId, IReadOnlyList<string> Words, string? Room, string? From, long? Before, int Limit);

/// <summary>A matching message and where it is: its room's name as the user sees it, and its position in the index.</summary>
public sealed record SearchHit(string Room, long Seq, string RoomName, long Position);

/// <summary>Hits newest first; Next is the position to continue before, or null on the last page.</summary>
public sealed record SearchPage(IReadOnlyList<SearchHit> Hits, long? Next);
