using System.Text.Json;
using System.Threading.Channels;
using Natter.Protocol;
using Natter.Server.Accounts;
using Natter.Server.Bus;
using Natter.Server.Messaging;

namespace Natter.Server.Gateway;

/// <summary>Client frames: parse, check, and turn into commands.</summary>
public sealed partial class SocketGateway
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 8 };

    /// <summary>Handles one text frame; true when the socket is being closed for too many bad frames.</summary>
    private async ValueTask<bool> HandleFrameAsync(Connection conn, Caller caller, ReadOnlyMemory<byte> frame, bool first, Queue<long> badFrames)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(frame, ParseOptions);
        }
        catch (JsonException)
        {
            ReleaseIf(first, conn);
            return Refuse(conn, badFrames, ErrorCodes.BadRequest, "The frame is not valid JSON.", null);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                ReleaseIf(first, conn);
                return Refuse(conn, badFrames, ErrorCodes.BadRequest, "A frame is a JSON object.", null);
            }

            string? reference = null;
            if (root.TryGetProperty("ref"u8, out var r))
            {
                if (r.ValueKind != JsonValueKind.String)
                {
                    ReleaseIf(first, conn);
                    return Refuse(conn, badFrames, ErrorCodes.BadRequest, "\"ref\" must be a string.", null);
                }

                reference = r.GetString();
            }

            if (!root.TryGetProperty("type"u8, out var t) || t.ValueKind != JsonValueKind.String)
            {
                ReleaseIf(first, conn);
                return Refuse(conn, badFrames, ErrorCodes.BadRequest, "A frame has a string \"type\".", reference);
            }

            var type = t.GetString();
            if (type == "sync")
            {
                // A sync as the first frame is answered before any live message (the connection is still holding them).
                return await SyncAsync(conn, caller, root, reference, badFrames, first);
            }

            ReleaseIf(first, conn);
            (string Code, string Message)? refusal = type switch
            {
                "send" => await SendAsync(conn, caller, root, reference),
                "typing" => await TypingAsync(caller, root),
                "read" => await ReadAsync(caller, root),
                "ping" => Pong(conn, reference),
                _ => (ErrorCodes.BadRequest, $"Unknown frame type '{type}'."),
            };
            return refusal is { } x && Refuse(conn, badFrames, x.Code, x.Message, reference);
        }
    }

    private static void ReleaseIf(bool first, Connection conn)
    {
        if (first)
        {
            conn.Release();
        }
    }

    private static (string, string)? Pong(Connection conn, string? reference)
    {
        conn.SendControl(Frames.Pong(reference));
        return null;
    }

    /// <summary>Reads an optional string field; Error when present with another type.</summary>
    private static (string? Value, bool Error) OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return (null, false);
        }

        return p.ValueKind == JsonValueKind.String ? (p.GetString(), false) : (null, true);
    }

    private async ValueTask<(string, string)?> SendAsync(Connection conn, Caller caller, JsonElement root, string? reference)
    {
        var (room, e1) = OptionalString(root, "room");
        var (to, e2) = OptionalString(root, "to");
        var (text, e3) = OptionalString(root, "text");
        var (clientId, e4) = OptionalString(root, "client_id");
        if (e1 || e2 || e3 || e4)
        {
            return (ErrorCodes.BadRequest, "room, to, text and client_id are strings.");
        }

        if (_stopping)
        {
            return (ErrorCodes.Internal, "The server is shutting down; nothing was stored.");
        }

        var (message, refusal) = await messages.PrepareAsync(caller, room, to, text, clientId, conn.Aborted);
        if (message is null)
        {
            return (refusal.Code, refusal.Message);
        }

        try
        {
            await ingest.SubmitAsync(new PendingSend(message, conn, reference), conn.Aborted);
        }
        catch (ChannelClosedException)
        {
            return (ErrorCodes.Internal, "The server is shutting down; nothing was stored.");
        }

        return null;
    }

    private async ValueTask<bool> SyncAsync(Connection conn, Caller caller, JsonElement root, string? reference, Queue<long> badFrames, bool first)
    {
        if (!root.TryGetProperty("rooms"u8, out var roomsEl) || roomsEl.ValueKind != JsonValueKind.Object)
        {
            ReleaseIf(first, conn);
            return Refuse(conn, badFrames, ErrorCodes.BadRequest, "sync takes \"rooms\": {room id: last seq}.", reference);
        }

        var wanted = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in roomsEl.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out var seq) || seq < 0)
            {
                ReleaseIf(first, conn);
                return Refuse(conn, badFrames, ErrorCodes.BadRequest, "Each room's last seq is a whole number, 0 or more.", reference);
            }

            var (entry, isMember) = await rooms.CheckMemberAsync(p.Name, caller.UserId, conn.Aborted);
            if (!isMember)
            {
                // The other rooms are still synced; this one is named in an error frame with the same ref.
                if (Refuse(conn, badFrames, entry is null ? ErrorCodes.NotFound : ErrorCodes.Forbidden, $"Room '{p.Name}' cannot be synced.", reference))
                {
                    return true;
                }

                continue;
            }

            wanted[p.Name] = seq;
        }

        conn.Sync(wanted, reference);
        ReleaseIf(first, conn);
        return false;
    }

    private async ValueTask<(string, string)?> TypingAsync(Caller caller, JsonElement root)
    {
        var (room, bad) = OptionalString(root, "room");
        if (bad || room is null)
        {
            return (ErrorCodes.BadRequest, "typing takes a string \"room\".");
        }

        var check = await CheckRoomAsync(caller, room);
        if (check is not null)
        {
            return check;
        }

        if (!limiter.TryEvent(caller.UserId))
        {
            return (ErrorCodes.RateLimited, "Too many typing and read frames.");
        }

        await bus.PublishAsync(new TypingEvent(room, caller.UserId, caller.Username), CancellationToken.None);
        return null;
    }

    private async ValueTask<(string, string)?> ReadAsync(Caller caller, JsonElement root)
    {
        var (room, bad) = OptionalString(root, "room");
        if (bad || room is null || !root.TryGetProperty("seq"u8, out var s) || s.ValueKind != JsonValueKind.Number
            || !s.TryGetInt64(out var seq) || seq < 0)
        {
            return (ErrorCodes.BadRequest, "read takes a string \"room\" and a whole number \"seq\".");
        }

        var check = await CheckRoomAsync(caller, room);
        if (check is not null)
        {
            return check;
        }

        if (!limiter.TryEvent(caller.UserId))
        {
            return (ErrorCodes.RateLimited, "Too many typing and read frames.");
        }

        var moved = await store.MarkReadAsync(room, caller.UserId, seq, CancellationToken.None);
        if (moved is { } marker)
        {
            await bus.PublishAsync(new ReadEvent(room, caller.UserId, caller.Username, marker), CancellationToken.None);
        }

        return null;
    }

    private async ValueTask<(string, string)?> CheckRoomAsync(Caller caller, string room)
    {
        var (entry, isMember) = await rooms.CheckMemberAsync(room, caller.UserId, CancellationToken.None);
        return entry is null ? (ErrorCodes.NotFound, "No such room.")
            : !isMember ? (ErrorCodes.Forbidden, "You are not a member of this room.")
            : null;
    }
}
