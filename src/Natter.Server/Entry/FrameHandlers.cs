using System.Text.Json;
using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Delivery;
using Natter.Server.Rooms;
using Natter.Server.Sending;
using Natter.Server.Storage;

namespace Natter.Server.Entry;

/// <summary>
/// Client frames: parse, check, and turn each into a command (send, edit, delete, react, sync, typing, read, ping). A
/// frame whose command cannot reach the store is answered `internal` (nothing was done) and the socket goes on.
/// </summary>
public sealed class FrameHandlers(SendService sends, EditService edits, DeleteService deletes, ReactService reactions,
    RoomDirectory rooms, IChatStore store, StoreHealth health, IMessageBus bus, SendRateLimiter limiter, ILogger<FrameHandlers> logger)
{
    private static readonly Refusal StoreUnreachable = new(ErrorCodes.Internal, "The store could not be reached; nothing was done. Try again.");

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 8 };

    /// <summary>Handles one text frame; refusals go out as error frames through the session.</summary>
    public async ValueTask HandleAsync(SocketSession session, ReadOnlyMemory<byte> frame)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(frame, ParseOptions);
        }
        catch (JsonException)
        {
            session.Refuse(ErrorCodes.BadRequest, "The frame is not valid JSON.", null);
            return;
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                session.Refuse(ErrorCodes.BadRequest, "A frame is a JSON object.", null);
                return;
            }

            string? reference = null;
            if (root.TryGetProperty("ref"u8, out var r))
            {
                if (r.ValueKind != JsonValueKind.String || !r.TryGetText(out reference))
                {
                    session.Refuse(ErrorCodes.BadRequest, "\"ref\" must be a string of valid text.", null);
                    return;
                }
            }

            if (!root.TryGetProperty("type"u8, out var t) || t.ValueKind != JsonValueKind.String || !t.TryGetText(out var type))
            {
                session.Refuse(ErrorCodes.BadRequest, "A frame has a string \"type\".", reference);
                return;
            }

            Refusal? refusal;
            try
            {
                refusal = type switch
                {
                    "send" => await SendAsync(session, root, reference),
                    "edit" => await EditAsync(session, root, reference),
                    "delete" => await DeleteAsync(session, root, reference),
                    "react" => await ReactAsync(session, root, reference),
                    "sync" => await SyncAsync(session, root, reference),
                    "typing" => await TypingAsync(session.Caller, root),
                    "read" => await ReadAsync(session.Caller, root),
                    "ping" => Pong(session, reference),
                    _ => new Refusal(ErrorCodes.BadRequest, $"Unknown frame type '{type}'."),
                };
            }
            catch (Exception e) when (StoreFaults.Is(e))
            {
                health.Failed(type ?? "frame", e);
                Log.FrameStoreFailed(logger, session.Connection.Id, session.Caller.Username, type ?? "", e.Message);
                refusal = StoreUnreachable;
            }

            if (refusal is { } refused)
            {
                session.Refuse(refused, reference);
            }
        }
    }

    private static Refusal? Pong(SocketSession session, string? reference)
    {
        if (!session.TryPing())
        {
            return new Refusal(ErrorCodes.RateLimited, "Too many pings.");
        }

        session.Connection.SendControl(Frames.Pong(reference));
        return null;
    }

    /// <summary>Reads an optional string field; Error when present with another type or not valid text.</summary>
    private static (string? Value, bool Error) OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return (null, false);
        }

        return p.ValueKind == JsonValueKind.String && p.TryGetText(out var value) ? (value, false) : (null, true);
    }

    /// <summary>Reads an optional whole-number field; Error when present with another type.</summary>
    private static (long? Value, bool Error) OptionalLong(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return (null, false);
        }

        return p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out var v) ? (v, false) : (null, true);
    }

    /// <summary>Reads an optional array of strings; Error when present with another shape.</summary>
    private static (string[]? Value, bool Error) OptionalStrings(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return (null, false);
        }

        var values = new List<string>();
        if (p.ValueKind != JsonValueKind.Array)
        {
            return (null, true);
        }

        foreach (var x in p.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.String || !x.TryGetText(out var value))
            {
                return (null, true);
            }

            values.Add(value!);
        }

        return ([.. values], false);
    }

    private async ValueTask<Refusal?> SendAsync(SocketSession session, JsonElement root, string? reference)
    {
        var (room, e1) = OptionalString(root, "room");
        var (to, e2) = OptionalString(root, "to");
        var (text, e3) = OptionalString(root, "text");
        var (clientId, e4) = OptionalString(root, "client_id");
        if (e1 || e2 || e3 || e4)
        {
            return new Refusal(ErrorCodes.BadRequest, "room, to, text and client_id are strings.");
        }

        var (replyTo, e5) = OptionalLong(root, "reply_to");
        var (files, e6) = OptionalStrings(root, "files");
        if (e5 || e6)
        {
            return new Refusal(ErrorCodes.BadRequest, "reply_to is a seq and files a list of file ids.");
        }

        var conn = session.Connection;
        return await sends.SubmitAsync(session.Caller, new SendRequest(room, to, text, clientId, replyTo, files), conn, reference, conn.Aborted);
    }

    /// <summary>room, target and client_id of an edit, delete or react frame; null with a refusal when one has the wrong type.</summary>
    private static (string? Room, long Target, string? ClientId, Refusal? Bad) EventFields(JsonElement root, string type)
    {
        var (room, e1) = OptionalString(root, "room");
        var (target, e2) = OptionalLong(root, "target");
        var (clientId, e3) = OptionalString(root, "client_id");
        return e1 || e2 || e3 || room is null || target is null
            ? (null, 0, null, new Refusal(ErrorCodes.BadRequest, $"{type} takes a string \"room\", a seq \"target\" and a string \"client_id\"."))
            : (room, target.Value, clientId, null);
    }

    private async ValueTask<Refusal?> EditAsync(SocketSession session, JsonElement root, string? reference)
    {
        var (room, target, clientId, bad) = EventFields(root, "edit");
        var (text, e1) = OptionalString(root, "text");
        if ((bad ?? (e1 ? new Refusal(ErrorCodes.BadRequest, "\"text\" is a string.") : null)) is { } refused)
        {
            return refused;
        }

        var conn = session.Connection;
        return await edits.SubmitAsync(session.Caller, new EditRequest(room, target, text, clientId), conn, reference, conn.Aborted);
    }

    private async ValueTask<Refusal?> DeleteAsync(SocketSession session, JsonElement root, string? reference)
    {
        var (room, target, clientId, bad) = EventFields(root, "delete");
        if (bad is { } refused)
        {
            return refused;
        }

        var conn = session.Connection;
        return await deletes.SubmitAsync(session.Caller, new DeleteRequest(room, target, clientId), conn, reference, conn.Aborted);
    }

    private async ValueTask<Refusal?> ReactAsync(SocketSession session, JsonElement root, string? reference)
    {
        var (room, target, clientId, bad) = EventFields(root, "react");
        var (emoji, e1) = OptionalString(root, "emoji");
        // "on" left out adds the reaction.
        var (on, e2) = !root.TryGetProperty("on"u8, out var o) || o.ValueKind == JsonValueKind.Null ? (true, false)
            : o.ValueKind is JsonValueKind.True or JsonValueKind.False ? (o.GetBoolean(), false)
            : (false, true);
        if ((bad ?? (e1 || e2 ? new Refusal(ErrorCodes.BadRequest, "react takes a string \"emoji\" and a boolean \"on\".") : null)) is { } refused)
        {
            return refused;
        }

        var conn = session.Connection;
        return await reactions.SubmitAsync(session.Caller, new ReactRequest(room, target, emoji, on, clientId), conn, reference, conn.Aborted);
    }

    /// <summary>Queues the answer (stored events of every kind after each room's seq, then "synced"); a room that cannot be synced gets its own error frame.</summary>
    private async ValueTask<Refusal?> SyncAsync(SocketSession session, JsonElement root, string? reference)
    {
        if (!root.TryGetProperty("rooms"u8, out var roomsEl) || roomsEl.ValueKind != JsonValueKind.Object)
        {
            return new Refusal(ErrorCodes.BadRequest, "sync takes \"rooms\": {room id: last seq}.");
        }

        var wanted = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in roomsEl.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out var seq) || seq < 0)
            {
                return new Refusal(ErrorCodes.BadRequest, "Each room's last seq is a whole number, 0 or more.");
            }

            if (!p.TryGetName(out var room))
            {
                return new Refusal(ErrorCodes.BadRequest, "A room id is not valid text.");
            }

            var (entry, isMember) = await rooms.CheckMemberAsync(room, session.Caller.UserId, session.Connection.Aborted);
            if (!isMember)
            {
                // The other rooms are still synced; this one is named in an error frame with the same ref.
                session.Refuse(entry is null ? ErrorCodes.NotFound : ErrorCodes.Forbidden, $"Room '{room}' cannot be synced.", reference);
                continue;
            }

            wanted[room] = seq;
        }

        session.Connection.Sync(wanted, reference);
        return null;
    }

    private async ValueTask<Refusal?> TypingAsync(Caller caller, JsonElement root)
    {
        var (room, bad) = OptionalString(root, "room");
        if (bad || room is null)
        {
            return new Refusal(ErrorCodes.BadRequest, "typing takes a string \"room\".");
        }

        if (await CheckRoomAsync(caller, room) is { } refused)
        {
            return refused;
        }

        if (!limiter.TryEvent(caller.UserId))
        {
            return new Refusal(ErrorCodes.RateLimited, "Too many typing and read frames.");
        }

        await bus.PublishAsync(new TypingEvent(room, caller.UserId, caller.Username), CancellationToken.None);
        return null;
    }

    private async ValueTask<Refusal?> ReadAsync(Caller caller, JsonElement root)
    {
        var (room, bad) = OptionalString(root, "room");
        if (bad || room is null || !root.TryGetProperty("seq"u8, out var s) || s.ValueKind != JsonValueKind.Number
            || !s.TryGetInt64(out var seq) || seq < 0)
        {
            return new Refusal(ErrorCodes.BadRequest, "read takes a string \"room\" and a whole number \"seq\".");
        }

        if (await CheckRoomAsync(caller, room) is { } refused)
        {
            return refused;
        }

        if (!limiter.TryEvent(caller.UserId))
        {
            return new Refusal(ErrorCodes.RateLimited, "Too many typing and read frames.");
        }

        var moved = await store.MarkReadAsync(room, caller.UserId, seq, CancellationToken.None);
        if (moved is { } marker)
        {
            await bus.PublishAsync(new ReadEvent(room, caller.UserId, caller.Username, marker), CancellationToken.None);
        }

        return null;
    }

    private async ValueTask<Refusal?> CheckRoomAsync(Caller caller, string room)
    {
        var (entry, isMember) = await rooms.CheckMemberAsync(room, caller.UserId, CancellationToken.None);
        return entry is null ? new Refusal(ErrorCodes.NotFound, "No such room.")
            : !isMember ? new Refusal(ErrorCodes.Forbidden, "You are not a member of this room.")
            : null;
    }
}
