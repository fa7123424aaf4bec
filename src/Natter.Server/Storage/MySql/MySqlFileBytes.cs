using System.Buffers;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// Cluster mode: file bytes as rows of file_chunks in the shared MySQL/MariaDB database, so every node serves every
/// file with nothing new to run or share (docs/cluster.md). A write streams the content one chunk
/// (Files:MySqlChunkBytes, 1 MiB) at a time, each chunk its own statement; a read loads one chunk at a time as the
/// reader moves, so memory per transfer is one chunk whatever the file's size.
/// </summary>
public sealed class MySqlFileBytes : IFileBytes
{
    private readonly string _connectionString;
    private readonly int _chunkBytes;

    public MySqlFileBytes(IOptions<NatterOptions> options)
    {
        var builder = new MySqlConnectionStringBuilder(options.Value.Storage.MySqlConnectionString
            ?? throw new InvalidOperationException("Natter:Storage:MySqlConnectionString is not set."));
        builder.DefaultCommandTimeout = (uint)Math.Ceiling(Math.Max(30, options.Value.Storage.MySqlCommandTimeout.TotalSeconds));
        _connectionString = builder.ConnectionString;
        _chunkBytes = options.Value.Files.MySqlChunkBytes;
    }

    private async Task<MySqlConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new MySqlConnection(_connectionString);
        try
        {
            await conn.OpenAsync(ct);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    public async Task<long> WriteAsync(string key, Stream content, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var buffer = ArrayPool<byte>.Shared.Rent(_chunkBytes);
        try
        {
            await conn.ExecuteAsync("DELETE FROM file_chunks WHERE file_key = @k", ct, ("@k", key));
            await using var insert = conn.Command(null, "INSERT INTO file_chunks (file_key, idx, size, data) VALUES (@k, @i, @s, @d)",
                ("@k", key), ("@i", 0), ("@s", 0), ("@d", Array.Empty<byte>()));
            long total = 0;
            for (var idx = 0; ; idx++)
            {
                var read = await content.ReadAtLeastAsync(buffer.AsMemory(0, _chunkBytes), _chunkBytes, throwOnEndOfStream: false, ct);
                if (read == 0 && idx > 0)
                {
                    break;
                }

                insert.Parameters[1].Value = idx;
                insert.Parameters[2].Value = read;
                ((MySqlParameter)insert.Parameters[3]).Value = new ReadOnlyMemory<byte>(buffer, 0, read);
                await insert.ExecuteNonQueryAsync(ct);
                total += read;
                if (read < _chunkBytes)
                {
                    break;
                }
            }

            return total;
        }
        catch
        {
            // Nothing partial stays under the key (the sweeper removes what a crash leaves).
            await conn.ExecuteAsync("DELETE FROM file_chunks WHERE file_key = @k", CancellationToken.None, ("@k", key));
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken ct)
    {
        var conn = await OpenAsync(ct);
        var sizes = await conn.ListAsync("SELECT size FROM file_chunks WHERE file_key = @k ORDER BY idx", r => (long)r.GetInt32(0), ct, ("@k", key));
        if (sizes.Count == 0)
        {
            await conn.DisposeAsync();
            return null;
        }

        return new ChunkStream(conn, key, [.. sizes]);
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("DELETE FROM file_chunks WHERE file_key = @k", ct, ("@k", key));
    }

    /// <summary>A read-only, seekable view of one key's chunks: holds the connection and one chunk at a time.</summary>
    private sealed class ChunkStream : Stream
    {
        private readonly MySqlConnection _conn;
        private readonly string _key;
        private readonly long[] _starts;
        private readonly long _length;
        private long _position;
        private int _loadedIndex = -1;
        private byte[] _loaded = [];

        public ChunkStream(MySqlConnection conn, string key, long[] sizes)
        {
            _conn = conn;
            _key = key;
            _starts = new long[sizes.Length];
            for (var i = 1; i < sizes.Length; i++)
            {
                _starts[i] = _starts[i - 1] + sizes[i - 1];
            }

            _length = _starts[^1] + sizes[^1];
        }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => _length;

        public override long Position
        {
            get => _position;
            set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        private int ChunkAt(long position)
        {
            var i = Array.BinarySearch(_starts, position);
            return i >= 0 ? i : ~i - 1;
        }

        private int CopyOut(Span<byte> destination)
        {
            var offset = (int)(_position - _starts[_loadedIndex]);
            var n = Math.Min(destination.Length, _loaded.Length - offset);
            _loaded.AsSpan(offset, n).CopyTo(destination);
            _position += n;
            return n;
        }

        public override int Read(Span<byte> buffer)
        {
            if (_position >= _length || buffer.Length == 0)
            {
                return 0;
            }

            var index = ChunkAt(_position);
            if (index != _loadedIndex)
            {
                using var cmd = _conn.Command(null, "SELECT data FROM file_chunks WHERE file_key = @k AND idx = @i", ("@k", _key), ("@i", index));
                _loaded = cmd.ExecuteScalar() as byte[] ?? throw new IOException("A chunk of the file is missing.");
                _loadedIndex = index;
            }

            return CopyOut(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= _length || buffer.Length == 0)
            {
                return 0;
            }

            var index = ChunkAt(_position);
            if (index != _loadedIndex)
            {
                await using var cmd = _conn.Command(null, "SELECT data FROM file_chunks WHERE file_key = @k AND idx = @i", ("@k", _key), ("@i", index));
                _loaded = await cmd.ExecuteScalarAsync(cancellationToken) as byte[] ?? throw new IOException("A chunk of the file is missing.");
                _loadedIndex = index;
            }

            return CopyOut(buffer.Span);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _conn.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await _conn.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
