using System.Globalization;
using System.Text;
using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// The group commit: a batch of room events stored in one transaction, each room's seqs assigned under its room
/// row's lock (see the class summary), retried on a deadlock or lock timeout, exactly once per client_id.
/// </summary>
public sealed partial class MySqlChatStore
{
    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct) =>
        AppendAsync(batch, skipBusy: false, ct);

    public Task<IReadOnlyList<AppendResult>> AppendSkippingBusyRoomsAsync(IReadOnlyList<NewEvent> batch, CancellationToken ct) =>
        AppendAsync(batch, skipBusy: true, ct);

    private async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewEvent> batch, bool skipBusy, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return [];
        }

        // Most batches hold no client_id stored before: the insert itself finds out (the unique key), and only a
        // batch that hits one runs again with the lookup first.
        var lookUp = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AppendOnceAsync(batch, skipBusy, lookUp, ct);
            }
            catch (ClientIdStoredException) when (!lookUp)
            {
                lookUp = true;
            }
            catch (MySqlException e) when (attempt < MaxAttempts && IsRetryable(e))
            {
                // Nothing of the batch is stored (the transaction rolled back): run it again from the start.
                Log.StoreRetry(_logger, "append", attempt, e.ErrorCode.ToString());
                await Task.Delay(Backoff(attempt), ct);
            }
        }
    }

    /// <summary>The batch's insert met a client_id stored before (the transaction is rolled back).</summary>
    private sealed class ClientIdStoredException(Exception inner) : Exception("A client_id of the batch is stored already.", inner);

    private static bool IsRetryable(MySqlException e) =>
        e.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout;

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20) * attempt);

    private readonly record struct ClientKey(string Room, long Sender, string ClientId);

    private readonly record struct MessageKey(string Room, long Seq);

    private const string ClientIdText = "CONVERT(m.client_id USING utf8mb4)";

    /// <summary>A message without a reply or mentions: every column v1 did not have keeps its default.</summary>
    private static bool IsPlain(StoredEvent e) => e.Kind == EventKind.Message && e.ReplyTo is null && e.Mentions.Count == 0;

    /// <summary>
    /// One attempt, in a transaction begun and ended by statement (START TRANSACTION rides on the room locks, COMMIT
    /// on the script: the driver's transaction object would cost a round trip each). Whatever does not end in a
    /// commit is rolled back before the connection goes back to the pool, so no room lock outlives the attempt.
    /// </summary>
    private async Task<IReadOnlyList<AppendResult>> AppendOnceAsync(IReadOnlyList<NewEvent> batch, bool skipBusy, bool lookUp, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var ended = false;
        try
        {
            (var results, ended) = await AppendInTransactionAsync(conn, batch, skipBusy, lookUp, ct);
            return results;
        }
        finally
        {
            if (!ended)
            {
                await RollBackAsync(conn);
            }
        }
    }

    /// <summary>
    /// Ends the attempt's transaction without its writes. When that fails the pool is cleared, so the connection is not
    /// handed out again with the transaction open (a connection that broke has lost it anyway: the server rolls back).
    /// </summary>
    private async Task RollBackAsync(MySqlConnection conn)
    {
        try
        {
            await conn.ExecuteAsync("ROLLBACK", CancellationToken.None);
        }
        catch (Exception e) when (e is MySqlException or InvalidOperationException or IOException or TimeoutException)
        {
            Log.AppendRollbackFailed(_logger, e.GetType().Name, e);
            MySqlConnection.ClearPool(conn);
        }
    }

    /// <summary>
    /// The attempt's transaction. The rooms' rows are locked first, so nothing below can change under it: the state
    /// the rules need is read once, the batch is decided in memory in order (each event seeing the ones before it),
    /// and the writes follow in as few round trips as the batch allows. A batch of plain messages costs two round
    /// trips (begin with the room locks; one script with every insert, the search index, every room's last_seq and
    /// the commit), whatever its size, and holds its rooms for one of them. With lookUp the stored client_ids are
    /// read first (a batch whose insert met one). Ended: whether the transaction was committed.
    /// </summary>
    private async Task<(IReadOnlyList<AppendResult> Results, bool Ended)> AppendInTransactionAsync(
        MySqlConnection conn, IReadOnlyList<NewEvent> batch, bool skipBusy, bool lookUp, CancellationToken ct)
    {
        // 1. Lock the batch's rooms in id order. Every append takes these locks first, so while they are held no
        //    other node can assign a seq or change a message in these rooms. The session limits and the begin ride
        //    on the first statement (no extra round trip). With skipBusy, a room another transaction holds is
        //    skipped, not waited for.
        var roomIds = batch.Select(m => m.Room).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var lastSeq = new Dictionary<string, long>(StringComparer.Ordinal);
        var facts = new Dictionary<string, RoomFacts>(StringComparer.Ordinal);
        HashSet<string>? gone = null;
        var firstChunk = true;
        foreach (var chunk in roomIds.Chunk(LookupChunk))
        {
            var names = chunk.Select((_, i) => "@r" + i).ToArray();
            var sql = $"SELECT id, last_seq, kind, deleted_at IS NOT NULL FROM rooms WHERE id IN ({string.Join(", ", names)}) ORDER BY id FOR UPDATE{(skipBusy ? " SKIP LOCKED" : "")}";
            var rows = await conn.ListAsync(
                firstChunk ? SessionLimits(conn) + "; SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; " + sql : sql,
                r => (Id: r.GetString(0), LastSeq: r.GetInt64(1), Facts: new RoomFacts(r.GetString(2), SenderModerates: false), Gone: r.GetInt64(3) != 0), ct,
                [.. chunk.Select((r, i) => (names[i], (object?)r)), .. firstChunk ? SessionLimitArgs : []]);
            firstChunk = false;
            foreach (var (id, last, roomFacts, deleted) in rows)
            {
                lastSeq[id] = last;
                facts[id] = roomFacts;
                if (deleted)
                {
                    // Deleted (by any node) after the events were checked: the deletion held this lock and has
                    // committed, so nothing may be stored in it (docs/cluster.md, "A send racing a room's deletion").
                    (gone ??= new HashSet<string>(StringComparer.Ordinal)).Add(id);
                }
            }
        }

        // A room not locked was either skipped (it exists: busy) or does not exist (the batch fails, as before).
        HashSet<string>? busy = null;
        if (skipBusy && lastSeq.Count < roomIds.Count)
        {
            var missing = roomIds.Where(r => !lastSeq.ContainsKey(r)).ToArray();
            var names = missing.Select((_, i) => "@r" + i).ToArray();
            busy = (await conn.ListAsync($"SELECT id FROM rooms WHERE id IN ({string.Join(", ", names)})", Rows.FirstString, ct,
                [.. missing.Select((r, i) => (names[i], (object?)r))])).ToHashSet(StringComparer.Ordinal);
            if (busy.Count == roomIds.Count)
            {
                return ([.. batch.Select(AppendResult.NotStored)], false);
            }
        }

        // 2. Which client_ids are stored already (any kind): only when the insert met one (see AppendAsync).
        var live = busy is null && gone is null ? batch : [.. batch.Where(m => busy?.Contains(m.Room) != true && gone?.Contains(m.Room) != true)];
        var existing = lookUp ? await StoredClientIdsAsync(conn, live.Select(m => new ClientKey(m.Room, m.SenderId, m.ClientId)), ct) : [];

        // 3. The state the other events' rules need: their targets, and the reactions on reaction targets.
        var (targets, reactions) = live.Any(e => !e.IsPlainMessage)
            ? await ReadTargetsAsync(conn, live, ct)
            : ([], []);
        var usableFiles = live.Any(e => e.Files.Count > 0) ? await LockUsableFilesAsync(conn, live, ct) : [];
        var moderators = await ReadModeratorsAsync(conn, live, ct);

        // 4. Decide in batch order; a client_id seen earlier in the batch is a duplicate of that one.
        var results = new AppendResult[batch.Count];
        var fresh = new List<StoredEvent>(batch.Count);
        var effects = new List<(NewEvent Event, long Seq)>();
        var mentions = new List<(long UserId, string Room, long Seq)>();
        var changed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            if (busy?.Contains(e.Room) == true)
            {
                results[i] = AppendResult.NotStored(e);
                continue;
            }

            if (gone?.Contains(e.Room) == true)
            {
                results[i] = AppendResult.Of(AppendOutcome.RoomGone);
                continue;
            }

            var key = new ClientKey(e.Room, e.SenderId, e.ClientId);
            if (existing.TryGetValue(key, out var first))
            {
                results[i] = new AppendResult(AppendOutcome.Duplicate, first);
                continue;
            }

            if (!lastSeq.TryGetValue(e.Room, out var last))
            {
                throw new InvalidOperationException($"Room {e.Room} does not exist.");
            }

            if (e.Files.Any(f => usableFiles.GetValueOrDefault(f.Id) != e.SenderId))
            {
                results[i] = AppendResult.Of(AppendOutcome.NotFound);
                continue;
            }

            if (!e.IsPlainMessage)
            {
                var targetSeq = e.Kind == EventKind.Message ? e.ReplyTo!.Value : e.Target;
                var outcome = RoomLogRules.Check(e, targets.TryGetValue(new MessageKey(e.Room, targetSeq), out var t) ? t : null,
                    facts[e.Room] with { SenderModerates = moderators.Contains((e.Room, e.SenderId)) });
                if (outcome == AppendOutcome.Stored && e.Kind == EventKind.Reaction)
                {
                    outcome = RoomLogRules.CheckReaction(e, reactions.GetValueOrDefault(new MessageKey(e.Room, e.Target)) ?? [], _maxReactionEmoji);
                }

                if (outcome != AppendOutcome.Stored)
                {
                    results[i] = AppendResult.Of(outcome);
                    continue;
                }
            }

            var stored = e.ToStored(last + 1);
            lastSeq[e.Room] = stored.Seq;
            changed.Add(e.Room);
            existing[key] = stored;
            fresh.Add(stored);
            results[i] = new AppendResult(AppendOutcome.Stored, stored);
            switch (e.Kind)
            {
                case EventKind.Message:
                    targets[new MessageKey(e.Room, stored.Seq)] = new TargetState(EventKind.Message, e.SenderId, false);
                    mentions.AddRange(e.Mentions.Select(m => (m.UserId, e.Room, stored.Seq)));
                    break;
                case EventKind.Delete:
                    targets[new MessageKey(e.Room, e.Target)] = targets[new MessageKey(e.Room, e.Target)] with { Deleted = true };
                    reactions.Remove(new MessageKey(e.Room, e.Target));
                    effects.Add((e, stored.Seq));
                    break;
                case EventKind.Reaction:
                    var list = reactions.TryGetValue(new MessageKey(e.Room, e.Target), out var l) ? l : reactions[new MessageKey(e.Room, e.Target)] = [];
                    if (e.On)
                    {
                        list.Add((e.Emoji!, e.SenderId));
                    }
                    else
                    {
                        list.RemoveAll(r => r.UserId == e.SenderId && string.Equals(r.Emoji, e.Emoji, StringComparison.Ordinal));
                    }

                    effects.Add((e, stored.Seq));
                    break;
                default:
                    effects.Add((e, stored.Seq));
                    break;
            }
        }

        // An event the rules refused may be the resend of a stored one, which answers with that event whatever the
        // state is now: without the lookup, those few are looked up here (refusals change nothing, so the rest stands).
        if (!lookUp && results.Any(r => r.Outcome is not (AppendOutcome.Stored or AppendOutcome.Duplicate or AppendOutcome.Busy or AppendOutcome.RoomGone)))
        {
            var refused = Enumerable.Range(0, batch.Count)
                .Where(i => results[i].Outcome is not (AppendOutcome.Stored or AppendOutcome.Duplicate or AppendOutcome.Busy or AppendOutcome.RoomGone)).ToList();
            var stored = await StoredClientIdsAsync(conn, refused.Select(i => new ClientKey(batch[i].Room, batch[i].SenderId, batch[i].ClientId)), ct);
            foreach (var i in refused)
            {
                if (stored.TryGetValue(new ClientKey(batch[i].Room, batch[i].SenderId, batch[i].ClientId), out var first))
                {
                    results[i] = new AppendResult(AppendOutcome.Duplicate, first);
                }
            }
        }

        // 5. One script (one round trip): the new log entries, many rows per statement (plain messages with v1's six
        //    columns, the others with every column), the new messages' search index, and every room's last_seq; when
        //    nothing else is to be written (no files, mentions, edits, deletions or reactions), the commit too. A
        //    failing statement stops the script before the commit.
        var files = fresh.Where(e => e.Files.Count > 0).ToList();
        var commitInScript = files.Count == 0 && mentions.Count == 0 && effects.Count == 0;
        var script = new MySqlScript(conn);
        try
        {
            await InsertEventsAsync(script, fresh, ct);
            await IndexNewMessagesAsync(script, fresh, ct);
            if (changed.Count > 0)
            {
                SetLastSeqs(script, changed, lastSeq);
                await script.EndAsync(ct);
            }

            if (commitInScript)
            {
                // 7 (a batch of plain messages). Commit: only now are the seqs real.
                script.Text("COMMIT");
                await script.EndAsync(ct);
            }

            await script.FlushAsync(ct);
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && e.Message.Contains("messages_client_id", StringComparison.Ordinal))
        {
            // A resend of a stored event: rolled back (AppendOnceAsync), and the batch runs again with the lookup (AppendAsync).
            throw new ClientIdStoredException(e);
        }

        if (commitInScript)
        {
            return (results, true);
        }

        await LinkFilesAsync(conn, files, ct);

        // 6. The current state: new messages' mentions, then edits, deletions and reactions in batch order, and
        //    what they change in the search index.
        await InsertMentionsAsync(conn, mentions, ct);
        foreach (var (e, seq) in effects)
        {
            await ApplyAsync(conn, e, seq, ct);
        }

        await IndexEffectsForSearchAsync(conn, effects, ct);

        // 7. Commit: only now are the seqs real.
        await conn.ExecuteAsync("COMMIT", ct);
        return (results, true);
    }
}
