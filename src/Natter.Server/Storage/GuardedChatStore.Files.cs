namespace Natter.Server.Storage;

public sealed partial class GuardedChatStore
{
    public Task AddUploadingFileAsync(string id, long uploaderId, string name, long now, CancellationToken ct) =>
        WriteAsync(() => inner.AddUploadingFileAsync(id, uploaderId, name, now, ct));

    public Task<long> GetUsedBytesAsync(long uploaderId, CancellationToken ct) =>
        ReadAsync(() => inner.GetUsedBytesAsync(uploaderId, ct));

    public Task<bool> CompleteFileAsync(string id, long size, string contentType, bool isImage, long quotaBytes, CancellationToken ct) =>
        WriteAsync(() => inner.CompleteFileAsync(id, size, contentType, isImage, quotaBytes, ct));

    public Task RemoveFileAsync(string id, CancellationToken ct) =>
        WriteAsync(() => inner.RemoveFileAsync(id, ct));

    public Task<IReadOnlyList<FileRecord>> FindFilesAsync(IReadOnlyCollection<string> ids, CancellationToken ct) =>
        ReadAsync(() => inner.FindFilesAsync(ids, ct));

    public Task<FileRef?> FindReadableFileAsync(string id, long userId, CancellationToken ct) =>
        ReadAsync(() => inner.FindReadableFileAsync(id, userId, ct));

    public Task<IReadOnlyList<string>> ListFilesToSweepAsync(long abandonedBefore, int limit, CancellationToken ct) =>
        ReadAsync(() => inner.ListFilesToSweepAsync(abandonedBefore, limit, ct));

    public Task<int> FreeUnattachedFilesAsync(long createdBefore, int limit, CancellationToken ct) =>
        WriteAsync(() => inner.FreeUnattachedFilesAsync(createdBefore, limit, ct));
}
