using System.Security.Cryptography;

namespace Natter.Server.Storage;

/// <summary>
/// A file as messages carry it (protocol v2 §3's file object): id, name, size, content type, and whether it is an
/// image (png, jpeg, gif or webp by its bytes), which gives it a thumbnail. The URLs follow from the id.
/// </summary>
public sealed record FileRef(string Id, string Name, long Size, string ContentType, bool IsImage)
{
    public string Url => FileIds.Url(Id);

    public string? ThumbUrl => IsImage ? FileIds.Url(Id) + "/thumb" : null;
}

/// <summary>A stored, usable file and who uploaded it (only the uploader may attach it).</summary>
public sealed record FileRecord(FileRef File, long UploaderId);

/// <summary>File ids: 128 random bits in base64url (22 characters), never derived from the file's name.</summary>
public static class FileIds
{
    public const int Length = 22;

    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>True for a string shaped like an id: checked before an id reaches a path, a key or a query.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: Length } && id.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_');

    public static string Url(string id) => "/api/files/" + id;

    /// <summary>The key of a file's thumbnail in <see cref="IFileBytes"/>.</summary>
    public static string ThumbKey(string id) => id + ".thumb";
}
