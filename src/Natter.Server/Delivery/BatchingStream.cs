using System.Buffers;

namespace Natter.Server.Delivery;

/// <summary>
/// The socket's stream, able to gather many WebSocket frames into one write: between BeginBatch and
/// EndBatchAsync the frames the WebSocket writes are copied into a pooled buffer, then leave in one
/// write (one syscall) instead of one each. Outside a batch, writes go straight through. Idle sockets
/// hold no buffer. Writes to the inner stream are serialized, because the WebSocket's own keep-alive
/// frames can be written from another thread.
/// </summary>
public sealed class BatchingStream(Stream inner) : Stream
{
    private const int FlushAt = 128 * 1024;

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _io = new(1, 1);
    private byte[]? _buffer;
    private int _length;
    private bool _batching;

    public void BeginBatch()
    {
        lock (_gate)
        {
            _batching = true;
        }
    }

    /// <summary>Ends the batch and writes what it gathered.</summary>
    public async ValueTask EndBatchAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            _batching = false;
        }

        await FlushBufferAsync(ct);
    }

    /// <summary>
    /// Writes one whole text message as a single unmasked WebSocket frame (FIN, opcode 1, RFC 6455 section 5.2),
    /// without going through the WebSocket's send path: inside a batch it is a copy into the batch's buffer. The
    /// caller checks the socket's state first; frames the WebSocket writes itself (pings, pongs, close) are whole
    /// writes too, so the two never interleave within a frame. Server frames are never masked and Natter negotiates
    /// no extension, so these bytes are what the WebSocket would have written.
    /// </summary>
    public ValueTask WriteTextFrameAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        Span<byte> header = stackalloc byte[10];
        var headerLength = WriteTextFrameHeader(payload.Length, header);
        bool batched, full = false;
        lock (_gate)
        {
            batched = _batching;
            if (batched)
            {
                Append(header[..headerLength], payload.Span);
                full = _length >= FlushAt;
            }
        }

        if (batched)
        {
            return full ? FlushBufferAsync(cancellationToken) : default;
        }

        return WriteWholeFrameAsync(header[..headerLength].ToArray(), payload, cancellationToken);
    }

    private async ValueTask WriteWholeFrameAsync(byte[] header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var frame = ArrayPool<byte>.Shared.Rent(header.Length + payload.Length);
        try
        {
            header.CopyTo(frame, 0);
            payload.Span.CopyTo(frame.AsSpan(header.Length));
            await _io.WaitAsync(ct);
            try
            {
                await inner.WriteAsync(frame.AsMemory(0, header.Length + payload.Length), ct);
            }
            finally
            {
                _io.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>The header of an unmasked final text frame of <paramref name="length"/> payload bytes; returns its size.</summary>
    internal static int WriteTextFrameHeader(int length, Span<byte> header)
    {
        header[0] = 0x81;
        if (length < 126)
        {
            header[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            header[1] = 126;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)length);
            return 4;
        }

        header[1] = 127;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header[2..], (ulong)length);
        return 10;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var full = false;
        lock (_gate)
        {
            if (_batching)
            {
                Append(buffer.Span);
                full = _length >= FlushAt;
                if (!full)
                {
                    return;
                }
            }
        }

        if (full)
        {
            await FlushBufferAsync(cancellationToken);
            return;
        }

        await _io.WaitAsync(cancellationToken);
        try
        {
            await inner.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            _io.Release();
        }
    }

    private void Append(ReadOnlySpan<byte> data) => Append(data, []);

    private void Append(ReadOnlySpan<byte> data, ReadOnlySpan<byte> more)
    {
        var size = data.Length + more.Length;
        if (_buffer is null || _buffer.Length - _length < size)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(16 * 1024, (_length + size) * 2));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        data.CopyTo(_buffer.AsSpan(_length));
        more.CopyTo(_buffer.AsSpan(_length + data.Length));
        _length += size;
    }

    private async ValueTask FlushBufferAsync(CancellationToken ct)
    {
        byte[]? buffer;
        int length;
        lock (_gate)
        {
            (buffer, length) = (_buffer, _length);
            (_buffer, _length) = (null, 0);
        }

        if (buffer is null)
        {
            return;
        }

        await _io.WaitAsync(ct);
        try
        {
            if (length > 0)
            {
                await inner.WriteAsync(buffer.AsMemory(0, length), ct);
            }
        }
        finally
        {
            _io.Release();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _io.Dispose();
            lock (_gate)
            {
                if (_buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = null;
                }
            }
        }

        base.Dispose(disposing);
    }
}
