using System.Buffers;
using System.Text;

namespace Natter.Server.Entry.Direct;

/// <summary>
/// A WebSocket upgrade request for /ws read straight from a connection's first bytes (RFC 6455 section 4.2.1 over
/// RFC 9112): only the plainest form is recognised; anything else, however valid, is left to Kestrel's HTTP, which
/// answers it as before. <see cref="TryRead"/> never throws and looks at no more than <see cref="MaxBytes"/>.
/// </summary>
public sealed class UpgradeRequest
{
    /// <summary>The most bytes a request here may take; a longer one goes to Kestrel (whose own limits then apply).</summary>
    public const int MaxBytes = 8192;

    private const int MaxHeaders = 64;

    private static ReadOnlySpan<byte> Start => "GET /ws"u8;
    private static ReadOnlySpan<byte> End => "\r\n\r\n"u8;

    private UpgradeRequest(string host, string key, string? origin, string? token, int length)
    {
        Host = host;
        Key = key;
        Origin = origin;
        Token = token;
        Length = length;
    }

    /// <summary>The Host header (checked to be a plain host[:port]).</summary>
    public string Host { get; }

    /// <summary>Sec-WebSocket-Key (base64 of 16 bytes).</summary>
    public string Key { get; }

    public string? Origin { get; }

    /// <summary>The bearer token, or else the session cookie's value, as the authentication handler reads them.</summary>
    public string? Token { get; }

    /// <summary>The request's length in bytes, its blank line included.</summary>
    public int Length { get; }

    /// <summary>True when the buffer might hold an upgrade for /ws (worth a look), from its first bytes.</summary>
    public static bool MayBe(ReadOnlySequence<byte> buffer)
    {
        Span<byte> first = stackalloc byte[7];
        if (buffer.Length < first.Length)
        {
            return false;
        }

        buffer.Slice(0, first.Length).CopyTo(first);
        return first.SequenceEqual(Start);
    }

    /// <summary>
    /// The request when <paramref name="buffer"/> begins with a complete, plain upgrade request for /ws; null for
    /// anything else (another request, an incomplete or malformed one, a header this path does not handle).
    /// </summary>
    public static UpgradeRequest? TryRead(ReadOnlySequence<byte> buffer, string cookieName)
    {
        if (!MayBe(buffer))
        {
            return null;
        }

        var length = (int)Math.Min(buffer.Length, MaxBytes);
        var rented = buffer.IsSingleSegment ? null : ArrayPool<byte>.Shared.Rent(length);
        try
        {
            ReadOnlySpan<byte> bytes;
            if (rented is null)
            {
                bytes = buffer.FirstSpan[..length];
            }
            else
            {
                buffer.Slice(0, length).CopyTo(rented);
                bytes = rented.AsSpan(0, length);
            }

            var end = bytes.IndexOf(End);
            return end < 0 ? null : Parse(bytes[..(end + 2)], end + End.Length, cookieName);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Parses the request line and header lines (each ending in CRLF).</summary>
    private static UpgradeRequest? Parse(ReadOnlySpan<byte> head, int length, string cookieName)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        if (!IsRequestLine(head[..lineEnd]))
        {
            return null;
        }

        string? host = null, upgrade = null, connection = null, version = null, key = null, origin = null, authorization = null, cookie = null;
        var count = 0;
        for (var rest = head[(lineEnd + 2)..]; rest.Length > 0; count++)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            var line = rest[..lineEnd];
            rest = rest[(lineEnd + 2)..];
            var colon = line.IndexOf((byte)':');
            if (count >= MaxHeaders || colon <= 0 || !IsToken(line[..colon]) || !IsFieldValue(line[(colon + 1)..]))
            {
                return null;
            }

            var value = Encoding.ASCII.GetString(line[(colon + 1)..].Trim(" \t"u8));
            var name = line[..colon];
            var slot = Known(name);
            switch (slot)
            {
                case Header.Other:
                    continue;
                case Header.Body:
                    return null;
                case Header.Host when host is null: host = value; break;
                case Header.Upgrade when upgrade is null: upgrade = value; break;
                case Header.Connection when connection is null: connection = value; break;
                case Header.Version when version is null: version = value; break;
                case Header.Key when key is null: key = value; break;
                case Header.Origin when origin is null: origin = value; break;
                case Header.Authorization when authorization is null: authorization = value; break;
                case Header.Cookie when cookie is null: cookie = value; break;
                default:
                    // A header that matters here, twice: Kestrel decides what that means.
                    return null;
            }
        }

        if (host is null || !IsPlainHost(host) || !HasToken(upgrade, "websocket") || !HasToken(connection, "upgrade")
            || version != "13" || key is null || !IsKey(key))
        {
            return null;
        }

        var token = ReadToken(authorization, cookie, cookieName, out var plain);
        return plain ? new UpgradeRequest(host, key, origin is { Length: > 0 } ? origin : null, token, length) : null;
    }

    private enum Header { Other, Body, Host, Upgrade, Connection, Version, Key, Origin, Authorization, Cookie }

    private static Header Known(ReadOnlySpan<byte> name) => name.Length switch
    {
        4 when Ascii.EqualsIgnoreCase(name, "host"u8) => Header.Host,
        6 when Ascii.EqualsIgnoreCase(name, "origin"u8) => Header.Origin,
        6 when Ascii.EqualsIgnoreCase(name, "cookie"u8) => Header.Cookie,
        7 when Ascii.EqualsIgnoreCase(name, "upgrade"u8) => Header.Upgrade,
        10 when Ascii.EqualsIgnoreCase(name, "connection"u8) => Header.Connection,
        13 when Ascii.EqualsIgnoreCase(name, "authorization"u8) => Header.Authorization,
        14 when Ascii.EqualsIgnoreCase(name, "content-length"u8) => Header.Body,
        17 when Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8) => Header.Body,
        17 when Ascii.EqualsIgnoreCase(name, "sec-websocket-key"u8) => Header.Key,
        21 when Ascii.EqualsIgnoreCase(name, "sec-websocket-version"u8) => Header.Version,
        _ => Header.Other,
    };

    /// <summary>"GET /ws HTTP/1.1" or "GET /ws/ HTTP/1.1" (the route's path, any case), nothing else.</summary>
    private static bool IsRequestLine(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("GET /"u8) || !line.EndsWith(" HTTP/1.1"u8))
        {
            return false;
        }

        var target = line[4..^9];
        return Ascii.EqualsIgnoreCase(target, "/ws"u8) || Ascii.EqualsIgnoreCase(target, "/ws/"u8);
    }

    /// <summary>RFC 9110 token characters.</summary>
    private static bool IsToken(ReadOnlySpan<byte> name)
    {
        foreach (var b in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Printable ASCII, space and tab only (no control bytes, no obs-text: those go to Kestrel).</summary>
    private static bool IsFieldValue(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is not (>= 0x20 and <= 0x7E) and not (byte)'\t')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A host name or IPv4 address with an optional port, or a bracketed IPv6 literal: letters, digits, . - : [ ].</summary>
    private static bool IsPlainHost(string host) =>
        host.Length is > 0 and <= 255 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']');

    /// <summary>A comma-separated header that lists <paramref name="token"/> (any case).</summary>
    private static bool HasToken(string? header, string token)
    {
        if (header is null)
        {
            return false;
        }

        foreach (var part in header.Split(','))
        {
            if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out var n) && n == 16;
    }

    /// <summary>
    /// The token as NatterAuthentication.ReadToken reads it: "Bearer x" wins, else the session cookie. Plain is false
    /// when the headers are in a form only the framework's parsers should judge (a cookie given twice, quoted or
    /// escaped values): the request then goes to Kestrel. A token of other characters than Natter's is not plain
    /// either (the framework refuses it as before).
    /// </summary>
    private static string? ReadToken(string? authorization, string? cookieHeader, string cookieName, out bool plain)
    {
        plain = true;
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var bearer = authorization["Bearer ".Length..].Trim();
            plain = IsTokenText(bearer);
            return bearer;
        }

        if (cookieHeader is null)
        {
            return null;
        }

        if (cookieHeader.Contains(',', StringComparison.Ordinal))
        {
            plain = false;
            return null;
        }

        string? found = null;
        foreach (var pair in cookieHeader.Split(';'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = (eq < 0 ? pair : pair[..eq]).Trim();
            if (!name.Equals(cookieName, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = eq < 0 ? "" : pair[(eq + 1)..].Trim();
            if (found is not null || !IsTokenText(value))
            {
                plain = false;
                return null;
            }

            found = value;
        }

        return found;
    }

    /// <summary>What Natter's tokens are made of (base64url, no padding), at most TokenCheck's length.</summary>
    private static bool IsTokenText(string token) =>
        token.Length is > 0 and <= Accounts.TokenCheck.MaxTokenLength && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
