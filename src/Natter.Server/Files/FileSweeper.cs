using Microsoft.Extensions.Options;
using Natter.Server.Storage;

namespace Natter.Server.Files;

/// <summary>
/// Removes the bytes of freed files (no message lists them any more) and of abandoned uploads, then their rows. First
/// it frees uploads that no message ever listed once they are older than Files:UnattachedUploadAge (and are nobody's
/// avatar), so they go the way of every freed file. It
/// runs after the deletion's commit, woken by the group commit and every Files:SweepInterval. Bytes are only ever
/// removed for a row a committed transaction marked freed (or an upload never completed), so a crash at any point
/// never loses a file a message lists: at worst bytes wait for the next sweep.
/// </summary>
public sealed class FileSweeper(IChatStore store, IFileBytes bytes, FileSweepSignal signal, IOptions<NatterOptions> options, TimeProvider clock,
    ILogger<FileSweeper> logger) : BackgroundService
{
    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var files = options.Value.Files;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(files.AbandonedUploadAge, files.UnattachedUploadAge, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.FileSweepFailed(logger, e.GetType().Name, e.Message);
            }

            try
            {
                await signal.WaitAsync(files.SweepInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: frees the unattached uploads older than <paramref name="unattachedAge"/>, then removes every file to sweep now; returns how many were removed.</summary>
    public async Task<int> SweepAsync(TimeSpan abandonedAge, TimeSpan unattachedAge, CancellationToken ct)
    {
        var unattachedBefore = (clock.GetUtcNow() - unattachedAge).ToUnixTimeMilliseconds();
        var freed = 0;
        for (int n; (n = await store.FreeUnattachedFilesAsync(unattachedBefore, BatchSize, ct)) > 0;)
        {
            freed += n;
            if (n < BatchSize)
            {
                break;
            }
        }

        if (freed > 0)
        {
            Log.UnattachedFilesFreed(logger, freed);
        }

        var removed = 0;
        while (true)
        {
            var ids = await store.ListFilesToSweepAsync((clock.GetUtcNow() - abandonedAge).ToUnixTimeMilliseconds(), BatchSize, ct);
            foreach (var id in ids)
            {
                await bytes.DeleteAsync(id, ct);
                await bytes.DeleteAsync(FileIds.ThumbKey(id), ct);
                await store.RemoveFileAsync(id, ct);
            }

            removed += ids.Count;
            if (ids.Count < BatchSize)
            {
                if (removed > 0)
                {
                    Log.FilesSwept(logger, removed);
                }

                return removed;
            }
        }
    }
}
