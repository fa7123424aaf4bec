using System.Net;
using System.Net.Sockets;

namespace Natter.Client.Tests;

/// <summary>
/// A loopback TCP relay in front of the server, so a test can lose the server's replies on the
/// current connections (an ack that never arrives) and then cut them, as a flaky network would.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Link> _links = [];
    private readonly Task _acceptLoop;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>From now on, bytes from the server on the existing connections are discarded.</summary>
    public void DropServerToClientOnCurrentConnections()
    {
        lock (_gate)
        {
            foreach (var link in _links) { link.DropDownstream = true; }
        }
    }

    /// <summary>Closes every existing connection; new connections are relayed normally.</summary>
    public void CutCurrentConnections()
    {
        Link[] links;
        lock (_gate)
        {
            links = [.. _links];
            _links.Clear();
        }
        foreach (var link in links) { link.Close(); }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutCurrentConnections();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            var link = new Link(client, server);
            lock (_gate) { _links.Add(link); }
            _ = link.PumpAsync(client.GetStream(), server.GetStream(), drop: false);
            _ = link.PumpAsync(server.GetStream(), client.GetStream(), drop: true);
        }
    }

    private sealed class Link(TcpClient client, TcpClient server)
    {
        public volatile bool DropDownstream;

        public async Task PumpAsync(NetworkStream from, NetworkStream to, bool drop)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var n = await from.ReadAsync(buffer);
                    if (n == 0)
                    {
                        break;
                    }
                    if (!(drop && DropDownstream))
                    {
                        await to.WriteAsync(buffer.AsMemory(0, n));
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                // Connection cut.
            }
            Close();
        }

        public void Close()
        {
            client.Dispose();
            server.Dispose();
        }
    }
}
