using Microsoft.Extensions.Options;

namespace Natter.Server.Storage;

/// <summary>
/// The embedded default: each key is one file in a folder beside the SQLite file (Files:Folder), under a
/// subfolder named after the key's first two characters. Keys are file ids (checked by <see cref="FileIds"/>),
/// never user-given names, so no path leaves the folder. A write goes to a temporary name and is renamed when
/// complete, so a key never shows partial bytes.
/// </summary>
public sealed class FolderFileBytes : IFileBytes
{
    private const int BufferBytes = 81920;

    public FolderFileBytes(IOptions<NatterOptions> options)
    {
        var natter = options.Value;
        Root = Path.GetFullPath(natter.Files.Folder ?? Path.GetFullPath(natter.Storage.SqlitePath) + ".files");
    }

    public string Root { get; }

    private string PathOf(string key)
    {
        var id = key.EndsWith(".thumb", StringComparison.Ordinal) ? key[..^".thumb".Length] : key;
        if (!FileIds.IsValid(id))
        {
            throw new ArgumentException("Not a file key.", nameof(key));
        }

        return Path.Combine(Root, key[..2], key);
    }

    public async Task<long> WriteAsync(string key, Stream content, CancellationToken ct)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".part";
        try
        {
            long length;
            await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, BufferBytes, ct);
                await file.FlushAsync(ct);
                length = file.Length;
            }

            File.Move(temp, path, overwrite: true);
            return length;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken ct)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, BufferBytes,
                FileOptions.Asynchronous));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        File.Delete(path);
        File.Delete(path + ".part"); // what a crash in the middle of a write left
        return Task.CompletedTask;
    }
}
