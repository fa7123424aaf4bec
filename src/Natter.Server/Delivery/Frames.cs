using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Natter.Server.Storage;

namespace Natter.Server.Delivery;

/// <summary>
/// Server-to-client frames, written straight to UTF-8 bytes. A stored event is serialized once and the same
/// bytes go to every member's socket.
/// </summary>
public static partial class Frames
{
    // Relaxed escaping keeps non-ASCII text readable on the wire; JSON stays valid and the browser renders text as text.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            body(w, state);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteRef(Utf8JsonWriter w, string? reference)
    {
        if (reference is not null)
        {
            w.WriteString("ref"u8, reference);
        }
    }

    /// <summary>The frame of a room log entry: "message", "edit", "delete" or "reaction".</summary>
    public static byte[] Event(StoredEvent e) => Write(e, static (w, e) =>
    {
        w.WriteString("type"u8, EventKinds.Name(e.Kind));
        WriteEventFields(w, e);
    });

    /// <summary>The HTTP event object: the frame's fields, with the type also as "kind" (protocol v2).</summary>
    public static byte[] EventObject(StoredEvent e) => Write(e, static (w, e) =>
    {
        w.WriteString("kind"u8, EventKinds.Name(e.Kind));
        w.WriteString("type"u8, EventKinds.Name(e.Kind));
        WriteEventFields(w, e);
    });

    private static void WriteEventFields(Utf8JsonWriter w, StoredEvent e)
    {
        w.WriteString("room"u8, e.Room);
        w.WriteNumber("seq"u8, e.Seq);
        w.WriteString("from"u8, e.From);
        switch (e.Kind)
        {
            case EventKind.Message:
                w.WriteString("text"u8, e.Text);
                w.WriteNumber("ts"u8, e.Ts);
                w.WriteString("client_id"u8, e.ClientId);
                if (e.ReplyTo is { } replyTo)
                {
                    w.WriteNumber("reply_to"u8, replyTo);
                }
                else
                {
                    w.WriteNull("reply_to"u8);
                }

                WriteMentions(w, e.Mentions);
                WriteFiles(w, e.Files);
                if (e.Deleted)
                {
                    w.WriteBoolean("deleted"u8, true);
                }

                break;
            case EventKind.Edit:
                w.WriteNumber("ts"u8, e.Ts);
                w.WriteString("client_id"u8, e.ClientId);
                w.WriteNumber("target"u8, e.Target);
                w.WriteString("text"u8, e.Text);
                WriteMentions(w, e.Mentions);
                WriteNoFiles(w);
                break;
            case EventKind.Delete:
                w.WriteNumber("ts"u8, e.Ts);
                w.WriteString("client_id"u8, e.ClientId);
                w.WriteNumber("target"u8, e.Target);
                break;
            case EventKind.Reaction:
                w.WriteNumber("ts"u8, e.Ts);
                w.WriteString("client_id"u8, e.ClientId);
                w.WriteNumber("target"u8, e.Target);
                w.WriteString("emoji"u8, e.Emoji);
                w.WriteBoolean("on"u8, e.On);
                break;
        }
    }

    private static void WriteMentions(Utf8JsonWriter w, IReadOnlyList<string> mentions)
    {
        w.WriteStartArray("mentions"u8);
        foreach (var m in mentions)
        {
            w.WriteStringValue(m);
        }

        w.WriteEndArray();
    }

    // An edit changes the text only: its frame lists no files (the message keeps its own).
    private static void WriteNoFiles(Utf8JsonWriter w)
    {
        w.WriteStartArray("files"u8);
        w.WriteEndArray();
    }

    /// <summary>File objects (protocol v2 §3): id, name, size, content_type, url, and thumb_url for an image.</summary>
    private static void WriteFiles(Utf8JsonWriter w, IReadOnlyList<FileRef> files)
    {
        w.WriteStartArray("files"u8);
        foreach (var f in files)
        {
            w.WriteStartObject();
            w.WriteString("id"u8, f.Id);
            w.WriteString("name"u8, f.Name);
            w.WriteNumber("size"u8, f.Size);
            w.WriteString("content_type"u8, f.ContentType);
            w.WriteString("url"u8, f.Url);
            if (f.ThumbUrl is { } thumb)
            {
                w.WriteString("thumb_url"u8, thumb);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    public static byte[] Ack(string? reference, StoredEvent e) => Write((reference, e), static (w, s) =>
    {
        w.WriteString("type"u8, "ack"u8);
        WriteRef(w, s.reference);
        w.WriteString("room"u8, s.e.Room);
        w.WriteNumber("seq"u8, s.e.Seq);
        w.WriteNumber("ts"u8, s.e.Ts);
        w.WriteString("client_id"u8, s.e.ClientId);
    });

    /// <summary>The ack of an event that changed nothing (a reaction already on, or already off): seq is null.</summary>
    public static byte[] UnchangedAck(string? reference, string room, string clientId, long ts) => Write((reference, room, clientId, ts), static (w, s) =>
    {
        w.WriteString("type"u8, "ack"u8);
        WriteRef(w, s.reference);
        w.WriteString("room"u8, s.room);
        w.WriteNull("seq"u8);
        w.WriteNumber("ts"u8, s.ts);
        w.WriteString("client_id"u8, s.clientId);
    });

    public static byte[] Error(string code, string message, string? reference) => Write((code, message, reference), static (w, s) =>
    {
        w.WriteString("type"u8, "error"u8);
        w.WriteString("code"u8, s.code);
        w.WriteString("message"u8, s.message);
        WriteRef(w, s.reference);
    });

    public static byte[] Pong(string? reference) => Write(reference, static (w, r) =>
    {
        w.WriteString("type"u8, "pong"u8);
        WriteRef(w, r);
    });

    public static byte[] Synced(string? reference) => Write(reference, static (w, r) =>
    {
        w.WriteString("type"u8, "synced"u8);
        WriteRef(w, r);
    });

    public static byte[] Welcome(string username, IReadOnlyList<MyRoom> rooms) => Write((username, rooms), static (w, s) =>
    {
        w.WriteString("type"u8, "welcome"u8);
        w.WriteString("username"u8, s.username);
        w.WriteStartArray("rooms"u8);
        foreach (var r in s.rooms)
        {
            w.WriteStartObject();
            w.WriteString("id"u8, r.Id);
            w.WriteString("name"u8, r.Name);
            w.WriteString("kind"u8, r.Kind);
            w.WriteNumber("last_seq"u8, r.LastSeq);
            w.WriteNumber("read_seq"u8, r.ReadSeq);
            w.WriteNumber("mention_count"u8, r.MentionCount);
            w.WriteString("topic"u8, r.Topic);
            w.WriteString("visibility"u8, r.Visibility);
            w.WriteNumber("members"u8, r.Members);
            w.WriteString("role"u8, r.Role);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static byte[] Presence(string username, bool online) => Write((username, online), static (w, s) =>
    {
        w.WriteString("type"u8, "presence"u8);
        w.WriteString("username"u8, s.username);
        w.WriteBoolean("online"u8, s.online);
    });

    public static byte[] Typing(string room, string username) => Write((room, username), static (w, s) =>
    {
        w.WriteString("type"u8, "typing"u8);
        w.WriteString("room"u8, s.room);
        w.WriteString("username"u8, s.username);
    });

    public static byte[] Read(string room, string username, long seq) => Write((room, username, seq), static (w, s) =>
    {
        w.WriteString("type"u8, "read"u8);
        w.WriteString("room"u8, s.room);
        w.WriteString("username"u8, s.username);
        w.WriteNumber("seq"u8, s.seq);
    });

    public static byte[] Member(string room, string username, bool joined) => Write((room, username, joined), static (w, s) =>
    {
        w.WriteString("type"u8, "member"u8);
        w.WriteString("room"u8, s.room);
        w.WriteString("username"u8, s.username);
        w.WriteString("event"u8, s.joined ? "joined"u8 : "left"u8);
    });
}
