namespace Natter.Server.Storage;

/// <summary>What the rules need to know of the message an event targets (or a send replies to).</summary>
internal readonly record struct TargetState(EventKind Kind, long SenderId, bool Deleted)
{
    /// <summary>A message that is not deleted: the only thing an edit, a delete, a reaction or a reply may target.</summary>
    public bool IsLiveMessage => Kind == EventKind.Message && !Deleted;
}

/// <summary>What the delete rule needs to know of the room: its kind and whether the sender is its owner or a moderator.</summary>
internal readonly record struct RoomFacts(string Kind, bool SenderModerates);

/// <summary>
/// The rules of the room log that depend on its state, so they are decided inside the group commit's transaction,
/// against the state at that point of the batch (an edit and a delete of one message racing from two nodes end
/// in one order, and whatever comes second sees the first). Both stores apply these same rules; everything that
/// does not depend on stored state (text, emoji, membership, rate) is checked before the queue, in Sending.
/// </summary>
internal static class RoomLogRules
{
    /// <summary>The outcome for one event, given its target (null: no message with that seq in the room).</summary>
    public static AppendOutcome Check(NewEvent e, TargetState? target, RoomFacts room) => e.Kind switch
    {
        EventKind.Message => e.ReplyTo is null || target is { IsLiveMessage: true } ? AppendOutcome.Stored : AppendOutcome.NotFound,
        _ when target is not { IsLiveMessage: true } => AppendOutcome.NotFound,
        EventKind.Edit => target.Value.SenderId == e.SenderId ? AppendOutcome.Stored : AppendOutcome.Forbidden,
        EventKind.Delete => target.Value.SenderId == e.SenderId || e.ByAdmin
            || (room.Kind == RoomKinds.Group && room.SenderModerates) ? AppendOutcome.Stored : AppendOutcome.Forbidden,
        EventKind.Reaction => AppendOutcome.Stored,
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    /// <summary>
    /// A reaction on a live message, given the reactions on it now: a change that changes nothing is Unchanged; a
    /// new emoji on a message that already has <paramref name="maxEmoji"/> distinct ones is Limit.
    /// </summary>
    public static AppendOutcome CheckReaction(NewEvent e, IReadOnlyCollection<(string Emoji, long UserId)> current, int maxEmoji)
    {
        var mine = current.Any(r => r.UserId == e.SenderId && string.Equals(r.Emoji, e.Emoji, StringComparison.Ordinal));
        if (mine == e.On)
        {
            return AppendOutcome.Unchanged;
        }

        if (e.On && !current.Any(r => string.Equals(r.Emoji, e.Emoji, StringComparison.Ordinal))
            && current.Select(r => r.Emoji).Distinct(StringComparer.Ordinal).Count() >= maxEmoji)
        {
            return AppendOutcome.Limit;
        }

        return AppendOutcome.Stored;
    }
}
