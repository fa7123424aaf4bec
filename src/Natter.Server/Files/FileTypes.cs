using Microsoft.Net.Http.Headers;

namespace Natter.Server.Files;

/// <summary>
/// What a file is. An image is a png, jpeg, gif or webp by its first bytes (protocol v2 §3), never by its declared
/// type or name; SVG (markup that can carry script) is never an image. Anything else keeps the type the upload
/// declared (for the card a client shows), unless it claims to be one of those image types without being one.
/// </summary>
public static class FileTypes
{
    /// <summary>Bytes enough to tell every image type apart.</summary>
    public const int SniffBytes = 12;

    public const string OctetStream = "application/octet-stream";

    public static string? SniffImage(ReadOnlySpan<byte> head) => head switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'7' or (byte)'9', (byte)'a', ..] => "image/gif",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        _ => null,
    };

    /// <summary>The declared type of a file that is not an image: a well-formed type/subtype (lower case, no parameters) or octet-stream.</summary>
    public static string Declared(string? declared)
    {
        if (!MediaTypeHeaderValue.TryParse(declared, out var parsed) || parsed.MediaType.Value is not { } type)
        {
            return OctetStream;
        }

        type = type.ToLowerInvariant();
        var slash = type.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == type.Length - 1 || type.Length > 127 || type.Contains('*', StringComparison.Ordinal))
        {
            return OctetStream;
        }

        return type is "image/png" or "image/jpeg" or "image/gif" or "image/webp" ? OctetStream : type;
    }
}
