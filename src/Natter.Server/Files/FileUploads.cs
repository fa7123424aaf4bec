using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Natter.Server.Storage;

namespace Natter.Server.Files;

/// <summary>The answer to an upload: the stored file, or a refusal (HTTP status and detail).</summary>
public readonly record struct UploadResult(FileRef? File, int Status, string Detail);

/// <summary>
/// POST /api/files: reads multipart/form-data straight from the request body (never buffered whole: one part's bytes
/// pass through a small buffer into <see cref="IFileBytes"/>), stops at Files:MaxUploadBytes or the uploader's quota
/// with 413 and removes what arrived, judges image-ness by the bytes, makes the thumbnail, then marks the file ready.
/// Order: the "uploading" row first, then the bytes, then "ready"; a crash in between leaves an uploading row that
/// the sweeper removes with its bytes (Files:AbandonedUploadAge).
/// </summary>
public sealed class FileUploads(IChatStore store, IFileBytes bytes, Thumbnailer thumbnailer, IOptions<NatterOptions> options, TimeProvider clock,
    ILogger<FileUploads> logger)
{
    public const string PartName = "file";

    private readonly FilesOptions _limits = options.Value.Files;

    public async Task<UploadResult> UploadAsync(HttpContext http, Caller caller, CancellationToken ct)
    {
        var request = http.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Refuse(StatusCodes.Status415UnsupportedMediaType, "Send multipart/form-data with one part named \"file\".");
        }

        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 200)
        {
            return Refuse(StatusCodes.Status400BadRequest, "The multipart boundary is missing or too long.");
        }

        // Kestrel's own body limit (30 MB by default) would cut a large allowed upload short; ours is checked per byte
        // below. Past it, Kestrel reads and discards up to Files:RefusedUploadDrainBytes more after the answer, so a
        // client that sends its whole body before reading (most HTTP libraries) gets the 413 instead of a reset.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = _limits.MaxUploadBytes + 1024 * 1024 + _limits.RefusedUploadDrainBytes;
        }

        var used = await store.GetUsedBytesAsync(caller.UserId, ct);
        var room = _limits.QuotaBytes - used;
        if (room <= 0)
        {
            return TooLarge(http, $"Your files already use your quota of {Describe(_limits.QuotaBytes)}.");
        }

        var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
        try
        {
            for (var section = await reader.ReadNextSectionAsync(ct); section is not null; section = await reader.ReadNextSectionAsync(ct))
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
                    && string.Equals(HeaderUtilities.RemoveQuotes(disposition.Name).Value, PartName, StringComparison.Ordinal))
                {
                    var raw = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    return await StoreAsync(http, caller, FileNames.Clean(raw), section.ContentType, section.Body, Math.Min(_limits.MaxUploadBytes, room),
                        quotaBound: room < _limits.MaxUploadBytes, ct);
                }
            }
        }
        catch (BadHttpRequestException e)
        {
            return e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? TooLarge(http, $"A file may have at most {Describe(_limits.MaxUploadBytes)}.")
                : Refuse(e.StatusCode, "The upload is not well-formed multipart/form-data.");
        }
        catch (InvalidDataException)
        {
            return Refuse(StatusCodes.Status400BadRequest, "The upload is not well-formed multipart/form-data.");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException && http.RequestAborted.IsCancellationRequested)
        {
            // The client went away (a cancelled upload): what arrived is removed already; nobody reads this answer.
            return Refuse(StatusCodes.Status400BadRequest, "The upload was cut short.");
        }

        return Refuse(StatusCodes.Status400BadRequest, "The upload has no part named \"file\".");
    }

    private async Task<UploadResult> StoreAsync(HttpContext http, Caller caller, string name, string? declaredType, Stream body, long limit, bool quotaBound,
        CancellationToken ct)
    {
        var id = FileIds.New();
        await store.AddUploadingFileAsync(id, caller.UserId, name, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        var kept = false;
        try
        {
            var counted = new LimitedReadStream(body, limit);
            long size;
            try
            {
                size = await bytes.WriteAsync(id, counted, ct);
            }
            catch (UploadTooLargeException)
            {
                Log.UploadTooLarge(logger, caller.Username, limit);
                return TooLarge(http, quotaBound
                    ? $"This file does not fit in your quota of {Describe(_limits.QuotaBytes)}."
                    : $"A file may have at most {Describe(_limits.MaxUploadBytes)}.");
            }

            var image = FileTypes.SniffImage(counted.Head);
            var contentType = image ?? FileTypes.Declared(declaredType);
            if (image is not null)
            {
                var (outcome, width, height) = await MakeThumbnailAsync(id, ct);
                switch (outcome)
                {
                    case ThumbnailOutcome.TooManyPixels:
                        Log.ImageTooLarge(logger, caller.Username, width, height);
                        return TooLarge(http, $"The image has {width} × {height} pixels; at most {_limits.MaxImagePixels:N0} pixels are accepted.");
                    case ThumbnailOutcome.NotAnImage:
                        image = null;
                        contentType = FileTypes.OctetStream;
                        break;
                }
            }

            // The quota again, at once with the completion: uploads running in parallel each saw the room left when they began.
            if (!await store.CompleteFileAsync(id, size, contentType, image is not null, _limits.QuotaBytes, ct))
            {
                Log.UploadOverQuota(logger, caller.Username, size);
                return TooLarge(http, $"This file does not fit in your quota of {Describe(_limits.QuotaBytes)}.");
            }

            kept = true;
            Log.FileUploaded(logger, caller.Username, size, contentType);
            return new UploadResult(new FileRef(id, name, size, contentType, image is not null), StatusCodes.Status201Created, "");
        }
        finally
        {
            if (!kept)
            {
                // Nothing of a refused or broken upload stays: its bytes (the write removed partial ones already), its
                // thumbnail and its row.
                await bytes.DeleteAsync(id, CancellationToken.None);
                await bytes.DeleteAsync(FileIds.ThumbKey(id), CancellationToken.None);
                await store.RemoveFileAsync(id, CancellationToken.None);
            }
        }
    }

    private async Task<(ThumbnailOutcome, int, int)> MakeThumbnailAsync(string id, CancellationToken ct)
    {
        try
        {
            return await thumbnailer.MakeAsync(id, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException && !StoreFaults.Is(e))
        {
            // A decoder failure on hostile bytes: the file stays, as a plain file without a thumbnail.
            Log.ThumbnailFailed(logger, id, e.GetType().Name, e.Message);
            return (ThumbnailOutcome.NotAnImage, 0, 0);
        }
    }

    private static UploadResult Refuse(int status, string detail) => new(null, status, detail);

    /// <summary>413. Nothing more of the body is stored; what the client still sends is discarded (up to the drain limit).</summary>
    private static UploadResult TooLarge(HttpContext http, string detail) => Refuse(StatusCodes.Status413PayloadTooLarge, detail);

    private static string Describe(long bytes) =>
        bytes % (1024 * 1024 * 1024) == 0 ? $"{bytes / (1024 * 1024 * 1024)} GiB"
        : bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB"
        : $"{bytes:N0} bytes";
}

/// <summary>The size limit was passed while the upload streamed in.</summary>
public sealed class UploadTooLargeException() : IOException("The upload is over its limit.");

/// <summary>Passes a body through, counting: throws <see cref="UploadTooLargeException"/> once more than the limit has arrived; keeps the first bytes for sniffing.</summary>
internal sealed class LimitedReadStream(Stream inner, long limit) : Stream
{
    private readonly byte[] _head = new byte[FileTypes.SniffBytes];
    private long _count;

    public ReadOnlySpan<byte> Head => _head.AsSpan(0, (int)Math.Min(_count, _head.Length));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _count;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        Count(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, count);
        Count(buffer.AsSpan(offset, n));
        return n;
    }

    private void Count(ReadOnlySpan<byte> read)
    {
        if (_count < _head.Length)
        {
            var take = (int)Math.Min(read.Length, _head.Length - _count);
            read[..take].CopyTo(_head.AsSpan((int)_count));
        }

        _count += read.Length;
        if (_count > limit)
        {
            throw new UploadTooLargeException();
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
