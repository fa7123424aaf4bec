using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Natter.Server.Api;
using Natter.Server.Storage;

namespace Natter.Server.Files;

/// <summary>
/// Files (protocol v2 §3): POST /api/files uploads; GET /api/files/{id} and /api/files/{id}/thumb serve the bytes to
/// whoever <see cref="IFileStore.FindReadableFileAsync"/> allows (401 without credentials, 404 otherwise and once
/// freed). Every answer is sandboxed: nosniff, a Content-Security-Policy with sandbox (an HTML or SVG file opened
/// from Natter's origin runs no script there), and anything but an image comes as an attachment. An ETag (the
/// bytes of an id never change), If-None-Match and Range are ASP.NET Core's own (Results.Stream).
/// </summary>
public static class FilesApi
{
    /// <summary>The policy of every file answer: no script, no plugins, no same origin; an image may show itself.</summary>
    public const string ContentSecurityPolicy = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

    public static RouteGroupBuilder MapFilesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/files").RequireAuthorization();
        api.MapPost("", Upload).DisableAntiforgery();
        api.MapGet("/{id}", (string id, HttpContext http, IChatStore store, IFileBytes bytes, CancellationToken ct) => ServeAsync(id, thumb: false, http, store, bytes, ct));
        api.MapGet("/{id}/thumb", (string id, HttpContext http, IChatStore store, IFileBytes bytes, CancellationToken ct) => ServeAsync(id, thumb: true, http, store, bytes, ct));
        return api;
    }

    public static async Task<Results<Created<FileDto>, ProblemHttpResult>> Upload(HttpContext http, FileUploads uploads, CancellationToken ct)
    {
        var result = await uploads.UploadAsync(http, Caller.From(http.User), ct);
        return result.File is { } file
            ? TypedResults.Created(file.Url, new FileDto(file.Id, file.Name, file.Size, file.ContentType, file.Url, file.ThumbUrl))
            : Problems.Status(result.Status, result.Detail);
    }

    private static async Task<IResult> ServeAsync(string id, bool thumb, HttpContext http, IChatStore store, IFileBytes bytes, CancellationToken ct)
    {
        var file = FileIds.IsValid(id) ? await store.FindReadableFileAsync(id, Caller.From(http.User).UserId, ct) : null;
        if (file is null || (thumb && !file.IsImage))
        {
            return Problems.NotFound("No such file.");
        }

        var stream = await bytes.OpenReadAsync(thumb ? FileIds.ThumbKey(id) : id, ct);
        if (stream is null)
        {
            return Problems.NotFound("No such file.");
        }

        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;

        // Access can end (a member leaves the room): a cache keeps the bytes but asks each time (a 304 is cheap).
        headers.CacheControl = "private, no-cache";
        var inline = thumb || file.IsImage;
        var disposition = new ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        disposition.SetHttpFileName(thumb ? Path.GetFileNameWithoutExtension(file.Name) + ".webp" : file.Name);
        headers.ContentDisposition = disposition.ToString();
        var etag = new EntityTagHeaderValue($"\"{id}{(thumb ? "-thumb" : "")}\"");
        return TypedResults.Stream(stream, thumb ? "image/webp" : file.ContentType, entityTag: etag, enableRangeProcessing: true);
    }
}
