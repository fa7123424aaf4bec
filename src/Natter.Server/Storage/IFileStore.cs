namespace Natter.Server.Storage;

/// <summary>
/// File metadata (protocol v2 §3). A file row is "uploading" while its bytes arrive, "ready" once they are all stored,
/// and "freed" when the deletion of the last message listing it commits; the sweeper then removes its bytes and the
/// row. Which message lists which file is kept by the group commit (message_files), in the same transaction as the
/// message or its deletion.
/// </summary>
public interface IFileStore
{
    /// <summary>Records an upload that has begun; the file is not usable until <see cref="CompleteFileAsync"/>.</summary>
    Task AddUploadingFileAsync(string id, long uploaderId, string name, long now, CancellationToken ct);

    /// <summary>Bytes of the user's files that are not freed (the quota counts these).</summary>
    Task<long> GetUsedBytesAsync(long uploaderId, CancellationToken ct);

    /// <summary>
    /// All the bytes are stored: the file becomes ready with its size and type, if the uploader's files with it stay
    /// within <paramref name="quotaBytes"/> (checked and changed at once, so parallel uploads cannot pass the quota
    /// together). False, and the file stays uploading, when it does not fit or is not an upload in progress.
    /// </summary>
    Task<bool> CompleteFileAsync(string id, long size, string contentType, bool isImage, long quotaBytes, CancellationToken ct);

    /// <summary>Forgets a file's row (an upload that failed, or a swept file whose bytes are gone).</summary>
    Task RemoveFileAsync(string id, CancellationToken ct);

    /// <summary>The ready files among these ids (unknown, unfinished and freed ones are left out).</summary>
    Task<IReadOnlyList<FileRecord>> FindFilesAsync(IReadOnlyCollection<string> ids, CancellationToken ct);

    /// <summary>
    /// The one access rule for reading a file's bytes: the file is ready and the user uploaded it or is a member of a
    /// room where a message lists it. Null otherwise. (Further rules, such as avatars, join this query.)
    /// </summary>
    Task<FileRef?> FindReadableFileAsync(string id, long userId, CancellationToken ct);

    /// <summary>Ids of freed files and of uploads begun before <paramref name="abandonedBefore"/> (Unix ms) and never completed.</summary>
    Task<IReadOnlyList<string>> ListFilesToSweepAsync(long abandonedBefore, int limit, CancellationToken ct);

    /// <summary>
    /// Frees, at most <paramref name="limit"/>, the ready files created before <paramref name="createdBefore"/> (Unix ms)
    /// that no message lists and that are nobody's avatar (uploads never attached); the sweep removes them. How many.
    /// </summary>
    Task<int> FreeUnattachedFilesAsync(long createdBefore, int limit, CancellationToken ct);
}
