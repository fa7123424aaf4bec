using Microsoft.Extensions.Options;
using Natter.Server.Storage;
using SkiaSharp;

namespace Natter.Server.Files;

/// <summary>What the thumbnailer made of an upload whose first bytes say "image".</summary>
public enum ThumbnailOutcome
{
    /// <summary>A thumbnail is stored under the file's thumbnail key.</summary>
    Made,
    /// <summary>The bytes only looked like an image (no decoder accepts them): the file is kept as a plain file.</summary>
    NotAnImage,
    /// <summary>The image declares more pixels than Files:MaxImagePixels: refused before decoding.</summary>
    TooManyPixels,
}

/// <summary>
/// Thumbnails with SkiaSharp, made once at upload (so the uploader hears at once if an image is refused, and nodes of
/// a cluster never race to make the same one). The image's size is read from its header (SKCodec) before any pixel
/// is decoded, and an image over the pixel limit is refused: a small PNG declaring 50,000 × 50,000 pixels costs a
/// header read. JPEG is decoded at a reduced scale where the codec can; at most Files:MaxConcurrentThumbnails images
/// are decoded at once. The thumbnail is WebP (keeps transparency), its longest side at most Files:ThumbnailSize.
/// </summary>
public sealed class Thumbnailer(IFileBytes bytes, IOptions<NatterOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(options.Value.Files.MaxConcurrentThumbnails);
    private readonly int _size = options.Value.Files.ThumbnailSize;
    private readonly long _maxPixels = options.Value.Files.MaxImagePixels;

    public async Task<(ThumbnailOutcome Outcome, int Width, int Height)> MakeAsync(string id, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var source = await bytes.OpenReadAsync(id, ct) ?? throw new InvalidOperationException("The upload's bytes are missing.");
            var (outcome, width, height, webp) = await Task.Run(() => Make(source), ct);
            if (webp is not null)
            {
                using var thumb = new MemoryStream(webp, writable: false);
                await bytes.WriteAsync(FileIds.ThumbKey(id), thumb, ct);
            }

            return (outcome, width, height);
        }
        finally
        {
            _gate.Release();
        }
    }

    private (ThumbnailOutcome, int, int, byte[]?) Make(Stream source)
    {
        using var managed = new SKManagedStream(source, disposeManagedStream: false);
        using var codec = SKCodec.Create(managed);
        if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0)
        {
            return (ThumbnailOutcome.NotAnImage, 0, 0, null);
        }

        var (w, h) = (codec.Info.Width, codec.Info.Height);
        if ((long)w * h > _maxPixels)
        {
            return (ThumbnailOutcome.TooManyPixels, w, h, null);
        }

        // Where the codec can decode at a smaller scale (JPEG), it does: less memory and time for a large photo.
        var scale = Math.Min(1f, (float)_size / Math.Max(w, h));
        var decoded = codec.GetScaledDimensions(scale);
        var info = new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            return (ThumbnailOutcome.NotAnImage, w, h, null);
        }

        var fit = Math.Min(1.0, (double)_size / Math.Max(decoded.Width, decoded.Height));
        var (tw, th) = (Math.Max(1, (int)Math.Round(decoded.Width * fit)), Math.Max(1, (int)Math.Round(decoded.Height * fit)));
        using var resized = tw == decoded.Width && th == decoded.Height
            ? bitmap.Copy()
            : bitmap.Resize(new SKImageInfo(tw, th, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        if (resized is null)
        {
            return (ThumbnailOutcome.NotAnImage, w, h, null);
        }

        using var oriented = Orient(resized, codec.EncodedOrigin);
        using var image = SKImage.FromBitmap(oriented);
        using var data = image.Encode(SKEncodedImageFormat.Webp, 80);
        return (ThumbnailOutcome.Made, w, h, data.ToArray());
    }

    /// <summary>A photo's EXIF orientation applied, so a phone's portrait picture is not shown lying down.</summary>
    private static SKBitmap Orient(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default)
        {
            return bitmap.Copy();
        }

        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var result = new SKBitmap(swap ? bitmap.Height : bitmap.Width, swap ? bitmap.Width : bitmap.Height, bitmap.ColorType, bitmap.AlphaType);
        using var canvas = new SKCanvas(result);
        var (w, h) = (bitmap.Width, bitmap.Height);
        switch (origin)
        {
            case SKEncodedOrigin.TopRight: canvas.Scale(-1, 1, w / 2f, 0); break;
            case SKEncodedOrigin.BottomRight: canvas.RotateDegrees(180, w / 2f, h / 2f); break;
            case SKEncodedOrigin.BottomLeft: canvas.Scale(1, -1, 0, h / 2f); break;
            case SKEncodedOrigin.LeftTop: canvas.Translate(h, 0); canvas.RotateDegrees(90); canvas.Scale(1, -1, 0, h / 2f); break;
            case SKEncodedOrigin.RightTop: canvas.Translate(h, 0); canvas.RotateDegrees(90); break;
            case SKEncodedOrigin.RightBottom: canvas.Translate(0, w); canvas.RotateDegrees(270); canvas.Scale(1, -1, 0, h / 2f); break;
            case SKEncodedOrigin.LeftBottom: canvas.Translate(0, w); canvas.RotateDegrees(270); break;
        }

        using var image = SKImage.FromBitmap(bitmap);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear));
        return result;
    }

    public void Dispose() => _gate.Dispose();
}
