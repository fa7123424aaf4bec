using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Natter.ClusterTests;

/// <summary>
/// A loopback TCP relay in front of MariaDB or Redis that a test can cut, the way a network fails:
/// <list type="bullet">
/// <item><see cref="Pause"/>: nothing is forwarded either way and new connections hang, but nothing is reset either: both
/// ends see silence, as behind a cut cable or a frozen switch. <see cref="Resume"/> forwards what was held.</item>
/// <item><see cref="PauseWhenClientSends"/>: pauses the moment a client sends bytes containing a pattern, before
/// forwarding them (say, mid-transaction: after the locks were taken, before the INSERT).</item>
/// <item><see cref="Drop"/>: resets every current connection (the server crashed); with <c>refuse</c>, new connections
/// are reset too until <see cref="Resume"/> (the server is down).</item>
/// </list>
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Link> _links = [];
    private readonly Task _acceptLoop;
    private TaskCompletionSource _flowing = NewGate(open: true);
    private byte[]? _trigger;
    private TaskCompletionSource? _fired;
    private bool _refusing;

    public FaultProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public bool IsPaused => !_flowing.Task.IsCompleted;

    /// <summary>Completes when a pattern set by <see cref="PauseWhenClientSends"/> has paused the proxy.</summary>
    public Task Triggered { get; private set; } = Task.CompletedTask;

    /// <summary>A MySqlConnector connection string to the same server through this proxy (no TLS, so patterns can match).</summary>
    public string MySql(string connectionString, int timeoutSeconds = 3) =>
        new MySqlConnector.MySqlConnectionStringBuilder(connectionString)
        {
            Server = "127.0.0.1",
            Port = (uint)Port,
            SslMode = MySqlConnector.MySqlSslMode.None,
            ConnectionTimeout = (uint)timeoutSeconds,
            CancellationTimeout = 1,
            Pooling = true,
        }.ConnectionString;

    public string Redis => $"127.0.0.1:{Port}";

    public void Pause()
    {
        lock (_gate)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = NewGate(open: false);
            }
        }
    }

    public void Resume()
    {
        lock (_gate)
        {
            _refusing = false;
            _trigger = null;
            _flowing.TrySetResult();
        }
    }

    /// <summary>Arms a one-shot pause: the first client chunk containing <paramref name="pattern"/> is held, and so is everything after it.</summary>
    public Task PauseWhenClientSends(string pattern)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _trigger = Encoding.UTF8.GetBytes(pattern);
            Triggered = fired.Task;
            _fired = fired;
        }

        return fired.Task;
    }

    /// <summary>Resets every current connection; with <paramref name="refuse"/>, new ones too until <see cref="Resume"/>.</summary>
    public void Drop(bool refuse = false)
    {
        Link[] links;
        lock (_gate)
        {
            _refusing = refuse;
            links = [.. _links];
            _links.Clear();
        }

        foreach (var link in links)
        {
            link.Reset();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Resume();
        Drop();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static TaskCompletionSource NewGate(bool open)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            tcs.SetResult();
        }

        return tcs;
    }

    private Task WhileFlowing()
    {
        lock (_gate)
        {
            return _flowing.Task;
        }
    }

    /// <summary>True when the chunk trips the armed pattern; the proxy is paused before the chunk goes on.</summary>
    private bool Trips(ReadOnlySpan<byte> chunk)
    {
        lock (_gate)
        {
            if (_trigger is null || chunk.IndexOf(_trigger) < 0)
            {
                return false;
            }

            _trigger = null;
            if (_flowing.Task.IsCompleted)
            {
                _flowing = NewGate(open: false);
            }

            _fired?.TrySetResult();
            return true;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ConnectAsync(client));
        }
    }

    private async Task ConnectAsync(Socket client)
    {
        bool refusing;
        lock (_gate)
        {
            refusing = _refusing;
        }

        if (refusing)
        {
            Link.ResetSocket(client);
            return;
        }

        // A paused network holds a new connection too: the client sees a connected socket and then silence.
        await WhileFlowing().WaitAsync(_stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Link.ResetSocket(client);
            server.Dispose();
            return;
        }

        client.NoDelay = true;
        var link = new Link(client, server);
        lock (_gate)
        {
            if (_refusing)
            {
                link.Reset();
                return;
            }

            _links.Add(link);
        }

        _ = PumpAsync(link, client, server, upstream: true);
        _ = PumpAsync(link, server, client, upstream: false);
    }

    private async Task PumpAsync(Link link, Socket from, Socket to, bool upstream)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                await WhileFlowing().WaitAsync(_stop.Token);
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    break;
                }

                if (upstream)
                {
                    Trips(buffer.AsSpan(0, n));
                }

                // Bytes read while paused (or that tripped the pattern) wait here until the network heals.
                await WhileFlowing().WaitAsync(_stop.Token);
                var sent = 0;
                while (sent < n)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, _stop.Token);
                }
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            link.Reset();
        }

        lock (_gate)
        {
            if (link.Closed)
            {
                _links.Remove(link);
            }
        }
    }

    private sealed class Link(Socket client, Socket server)
    {
        private int _closed;

        public bool Closed => Volatile.Read(ref _closed) != 0;

        public void Reset()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                ResetSocket(client);
                ResetSocket(server);
            }
        }

        /// <summary>Closes with an RST (linger 0), as a crashed peer would.</summary>
        public static void ResetSocket(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
