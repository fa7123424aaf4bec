namespace Natter.Server.Storage;

/// <summary>
/// Where file bytes live, by key (a file id, or its thumbnail's key): a folder on the embedded default, chunked rows
/// in MySQL/MariaDB in cluster mode (every node serves every file). Writes stream; reads are seekable streams, so
/// Range requests read only what they send.
/// </summary>
public interface IFileBytes
{
    /// <summary>
    /// Copies <paramref name="content"/> to the key, never holding more than a buffer in memory; returns the number
    /// of bytes. If the copy fails (say, the content stream throws at the size limit) nothing is left under the key.
    /// </summary>
    Task<long> WriteAsync(string key, Stream content, CancellationToken ct);

    /// <summary>A seekable stream over the bytes, or null when there are none under the key.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>Removes the bytes under the key; nothing happens when there are none.</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}

/// <summary>Wakes the file sweeper when a deletion may have freed files (set by the group commit, read by the sweeper).</summary>
public sealed class FileSweepSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Wake()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose() => _signal.Dispose();
}
