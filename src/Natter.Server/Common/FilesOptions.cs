using System.ComponentModel.DataAnnotations;

namespace Natter.Server.Common;

/// <summary>File sharing (protocol v2 §3): upload limits, the quota, the thumbnailer and where the bytes live.</summary>
public sealed class FilesOptions
{
    /// <summary>Largest upload in bytes (protocol default 25 MiB); a larger one is refused with 413 as soon as it passes this.</summary>
    [Range(typeof(long), "1", "1099511627776")]
    public long MaxUploadBytes { get; set; } = 25L * 1024 * 1024;

    /// <summary>Bytes one user's files may hold together (protocol default 1 GiB); freed files no longer count.</summary>
    [Range(typeof(long), "1", "1099511627776")]
    public long QuotaBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// After an upload is refused as too large, how many more bytes of its body are read and thrown away so that a
    /// client which sends the whole body before reading the answer sees the 413 (most HTTP libraries do); past it
    /// the connection is closed. Nothing of these bytes is kept.
    /// </summary>
    [Range(typeof(long), "0", "1099511627776")]
    public long RefusedUploadDrainBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Largest image (width × height, as its header declares) the thumbnailer decodes; a larger one is refused at
    /// upload (413) before any pixel is decoded, so a small file declaring 50,000 × 50,000 pixels costs nothing.
    /// Decoding takes about 4 bytes per pixel: 40 MP is at most 160 MB for one thumbnail.
    /// </summary>
    [Range(typeof(long), "1", "1000000000")]
    public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>Thumbnails made at once (each holds one decoded image in memory); more uploads wait their turn.</summary>
    [Range(1, 64)]
    public int MaxConcurrentThumbnails { get; set; } = 2;

    /// <summary>Longest side of a thumbnail in pixels (protocol: at most 400).</summary>
    [Range(16, 400)]
    public int ThumbnailSize { get; set; } = 400;

    /// <summary>
    /// Embedded mode: the folder of the bytes. Default: beside the SQLite file, named after it ("natter.db" →
    /// "natter.db.files"). Cluster mode keeps the bytes in MySQL/MariaDB instead (docs/cluster.md).
    /// </summary>
    public string? Folder { get; set; }

    /// <summary>Cluster mode: bytes per stored chunk row (each read or written whole; at most max_allowed_packet).</summary>
    [Range(16 * 1024, 8 * 1024 * 1024)]
    public int MySqlChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>How often freed files and abandoned uploads are looked for (a deletion also wakes the sweeper at once).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An upload still unfinished after this long was abandoned (say, by a crash): its bytes are swept.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan AbandonedUploadAge { get; set; } = TimeSpan.FromHours(6);

    // debts: uploads never attached.

    /// <summary>
    /// An upload that no message lists (and that is nobody's avatar) this long after it began is removed, row and
    /// bytes, by the sweep; a send listing it later is refused. It counts against the quota until then.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan UnattachedUploadAge { get; set; } = TimeSpan.FromHours(24);
}
