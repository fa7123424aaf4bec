using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Natter.Client;

/// <summary>Files (protocol v2 §3): upload, attach to a send, download.</summary>
public sealed partial class NatterClient
{
    private static readonly IReadOnlyList<ChatFile> NoFiles = [];

    /// <summary>
    /// POST /api/files: streams <paramref name="content"/> as the multipart part "file" (never read whole into memory)
    /// and returns the file object. <paramref name="progress"/> hears the bytes sent so far. A file over the server's
    /// limit or the user's quota fails with <see cref="NatterHttpException"/> 413.
    /// </summary>
    public async Task<ChatFile> UploadAsync(Stream content, string fileName, string? contentType = null, IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(fileName);
        var part = new ProgressStreamContent(content, progress);
        part.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? "application/octet-stream");
        using var form = new MultipartFormDataContent { { part, "file", fileName } };
        var dto = await CallAsync(HttpMethod.Post, "api/files", form, ClientJsonContext.Default.FileDto, cancellationToken).ConfigureAwait(false);
        return ToFile(dto);
    }

    /// <summary>Sends a message listing files (ids from <see cref="UploadAsync"/>, one's own only, at most 10); the text may be empty.</summary>
    public Task<SendAck> SendAsync(string room, string text, IEnumerable<string> fileIds, string? clientId = null, CancellationToken cancellationToken = default)
        => SendCoreAsync(new SendFrame { Room = room, Text = text, Files = [.. fileIds], ClientId = clientId ?? NewClientId() }, cancellationToken);

    /// <summary>GET a file's (or thumbnail's) bytes as a stream; the caller disposes it.</summary>
    public async Task<Stream> DownloadAsync(string url, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        var response = await SendHttpAsync(HttpMethod.Get, url.TrimStart('/'), null, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static ChatFile ToFile(FileDto f) => new(f.Id, f.Name, f.Size, f.ContentType, f.Url, f.ThumbUrl);

    private static IReadOnlyList<ChatFile> ToFiles(List<FileDto>? files) => files is { Count: > 0 } ? [.. files.Select(ToFile)] : NoFiles;

    /// <summary>A stream as request content, copied in small pieces with the count so far reported.</summary>
    private sealed class ProgressStreamContent(Stream source, IProgress<long>? progress) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var buffer = new byte[81920];
            long sent = 0;
            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                sent += n;
                progress?.Report(sent);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            if (source.CanSeek)
            {
                length = source.Length - source.Position;
                return true;
            }

            length = 0;
            return false;
        }
    }
}
