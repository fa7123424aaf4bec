using System.Net;
using System.Reflection;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Natter.Server.Entry;
using Natter.Server.Storage;

namespace Natter.Tests.Sockets;

/// <summary>
/// /ws upgrades answered on the connection itself (Entry/Direct/DirectUpgrade) and everything that must still reach
/// Kestrel's HTTP unchanged: other requests, malformed or split requests, refusals. Raw TCP on 127.0.0.1, so the
/// bytes on the wire are the test's own.
/// </summary>
public sealed class DirectUpgradeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_plain_upgrade_is_answered_directly_and_the_socket_speaks_the_protocol()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using var tcp = await ConnectAsync(server);
        var stream = tcp.GetStream();
        var key = NewKey();
        await WriteAsync(stream, Upgrade(server, key, $"Authorization: Bearer {user.Token}\r\n"));

        var head = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        Assert.Contains($"Sec-WebSocket-Accept: {SocketAcceptor.AcceptKey(key)}\r\n", head, StringComparison.Ordinal);
        Assert.Contains("X-Frame-Options: DENY\r\n", head, StringComparison.Ordinal);
        // Kestrel's own answers carry "Server: Kestrel"; the direct path's do not (this is how the test knows which path ran).
        Assert.DoesNotContain("Server:", head, StringComparison.OrdinalIgnoreCase);

        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = System.Threading.Timeout.InfiniteTimeSpan });
        Assert.Equal("welcome", (await NextAsync(ws)).GetProperty("type").GetString());
        await SendAsync(ws, """{"type":"ping","ref":"p1"}""");
        var pong = await NextOfTypeAsync(ws, "pong");
        Assert.Equal("p1", pong.GetProperty("ref").GetString());
        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_session_cookie_upgrade_is_answered_directly()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using var tcp = await ConnectAsync(server);
        var stream = tcp.GetStream();
        await WriteAsync(stream, Upgrade(server, NewKey(), $"Cookie: other=1; natter_session={user.Token}\r\nOrigin: {server.BaseUri.GetLeftPart(UriPartial.Authority)}\r\n"));
        var head = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false });
        Assert.Equal("welcome", (await NextAsync(ws)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_frame_sent_in_the_same_write_as_the_upgrade_is_read()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using var tcp = await ConnectAsync(server);
        var stream = tcp.GetStream();
        var bytes = Upgrade(server, NewKey(), $"Authorization: Bearer {user.Token}\r\n").Concat(MaskedText("""{"type":"ping","ref":"early"}""")).ToArray();
        await WriteAsync(stream, bytes);
        Assert.StartsWith("HTTP/1.1 101 ", await ReadHeadAsync(stream), StringComparison.Ordinal);
        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false });
        Assert.Equal("early", (await NextOfTypeAsync(ws, "pong")).GetProperty("ref").GetString());
    }

    [Fact]
    public async Task An_upgrade_after_another_request_on_the_same_connection_goes_through_the_request_pipeline()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using var tcp = await ConnectAsync(server);
        var stream = tcp.GetStream();
        await WriteAsync(stream, Encoding.ASCII.GetBytes($"HEAD /healthz/live HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200 ", await ReadHeadAsync(stream), StringComparison.Ordinal);

        await WriteAsync(stream, Upgrade(server, NewKey(), $"Authorization: Bearer {user.Token}\r\n"));
        var head = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        Assert.Contains("Server: Kestrel", head, StringComparison.Ordinal);
        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false });
        Assert.Equal("welcome", (await NextAsync(ws)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task An_upgrade_that_arrives_in_pieces_is_accepted_by_the_request_pipeline()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using var tcp = await ConnectAsync(server);
        var stream = tcp.GetStream();
        var bytes = Upgrade(server, NewKey(), $"Authorization: Bearer {user.Token}\r\n");
        await WriteAsync(stream, bytes[..10]);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        await WriteAsync(stream, bytes[10..]);
        Assert.StartsWith("HTTP/1.1 101 ", await ReadHeadAsync(stream), StringComparison.Ordinal);
        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false });
        Assert.Equal("welcome", (await NextAsync(ws)).GetProperty("type").GetString());
    }

    public static TheoryData<string, int> Malformed => new()
    {
        { "GET /ws HTTP/1.1\r\nHost: h\r\nno colon here\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400 },
        { "GET /ws HTTP/1.1\r\nHost: h\r\n folded: value\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400 },
        { "GET /ws HTTP/1.1\r\nHost: h\r\nBad Name: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400 },
        { "GET /ws HTTP/1.1\r\nHost: h\r\nX: a\u0001b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 401 },
        { "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400 },
        { "GET /ws HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400 },
        { "GET /ws HTTP/9.9\r\nHost: h\r\n\r\n", 505 },
        { "GET /ws\r\n\r\n", 400 },
        { "GET /ws HTTP/1.1\r\nHost: h\r\nX-Pad: " + new string('a', 40_000) + "\r\n\r\n", 431 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_first_request_gets_kestrels_or_the_pipelines_answer_and_the_server_goes_on(string request, int status)
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using (var tcp = await ConnectAsync(server))
        {
            var stream = tcp.GetStream();
            await WriteAsync(stream, Encoding.Latin1.GetBytes(request));
            var head = await ReadHeadAsync(stream);
            Assert.StartsWith($"HTTP/1.1 {status} ", head, StringComparison.Ordinal);
        }

        await using var socket = await user.ConnectAsync();
        await socket.NextAsync("welcome");
    }

    [Fact]
    public async Task Connections_that_send_garbage_or_nothing_or_half_a_request_do_not_harm_the_server()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        foreach (var bytes in new[] { "", "GET /w", "GET /ws HTTP/1.1\r\nHost: h\r\n", "\0\0\0\0\0\0\0\0\0\0", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" })
        {
            using var tcp = await ConnectAsync(server);
            var stream = tcp.GetStream();
            await WriteAsync(stream, Encoding.ASCII.GetBytes(bytes));
            tcp.Client.Shutdown(SocketShutdown.Send);
            await stream.CopyToAsync(Stream.Null, TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        }

        await using var socket = await user.ConnectAsync();
        await socket.NextAsync("welcome");
        Assert.Equal(200, await server.HealthAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Refused_upgrades_get_the_request_pipelines_answers_with_the_direct_path_on_or_off(bool direct)
    {
        await using var server = await TestServer.StartAsync($"Natter:WebSocket:DirectUpgrade={direct}", "Natter:Limits:SocketsPerUser=1");
        var user = await server.UserAsync();
        var authority = server.BaseUri.GetLeftPart(UriPartial.Authority);

        Assert.Equal(401, await StatusAsync(server, Upgrade(server, NewKey(), "")));
        Assert.Equal(401, await StatusAsync(server, Upgrade(server, NewKey(), "Authorization: Bearer nosuchtoken\r\n")));
        Assert.Equal(403, await StatusAsync(server, Upgrade(server, NewKey(), $"Authorization: Bearer {user.Token}\r\nOrigin: http://evil.example\r\n")));
        Assert.Equal(400, await StatusAsync(server, Encoding.ASCII.GetBytes($"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nAuthorization: Bearer {user.Token}\r\n\r\n")));

        await using var open = await user.ConnectAsync(o => o.SetRequestHeader("Origin", authority));
        await open.NextAsync("welcome");
        Assert.Equal(429, await StatusAsync(server, Upgrade(server, NewKey(), $"Authorization: Bearer {user.Token}\r\n")));
    }

    [Theory]
    [InlineData("Authorization: Bearer nosuchtoken\r\n")]
    [InlineData("Cookie: natter_session=nosuchtoken\r\n")]
    public async Task A_refused_token_is_looked_up_once_and_answered_as_with_the_direct_path_off(string credentials)
    {
        var answers = new List<string>();
        foreach (var direct in new[] { false, true })
        {
            var lookups = new SessionLookups();
            await using var server = await TestServer.StartAsync(new ServerOptions
            {
                Settings = [$"Natter:WebSocket:DirectUpgrade={direct}"],
                Services = lookups.Install,
            });
            using var tcp = await ConnectAsync(server);
            var stream = tcp.GetStream();
            await WriteAsync(stream, Upgrade(server, NewKey(), credentials));
            var head = await ReadHeadAsync(stream);
            var body = await ReadBodyAsync(stream, head);

            Assert.StartsWith("HTTP/1.1 401 ", head, StringComparison.Ordinal);
            Assert.Contains("\"title\":\"Unauthorized\"", body, StringComparison.Ordinal);
            Assert.Equal(1, lookups.Count);

            // The same bytes on the wire either way, but for the date and the request's trace id.
            answers.Add(System.Text.RegularExpressions.Regex.Replace(
                string.Join("\r\n", head.Split("\r\n").Where(l => !l.StartsWith("Date:", StringComparison.Ordinal))) + body,
                "\"trace_id\":\"[^\"]*\"", "\"trace_id\":\"-\""));
        }

        Assert.Equal(answers[0], answers[1]);
    }

    [Fact]
    public async Task With_the_direct_path_off_sockets_still_open_and_work()
    {
        await using var server = await TestServer.StartAsync("Natter:WebSocket:DirectUpgrade=false");
        var user = await server.UserAsync();
        using var tcp = await ConnectAsync(server);
        var stream = tcp.GetStream();
        await WriteAsync(stream, Upgrade(server, NewKey(), $"Authorization: Bearer {user.Token}\r\n"));
        Assert.Contains("Server: Kestrel", await ReadHeadAsync(stream), StringComparison.Ordinal);

        await using var socket = await user.ConnectAsync();
        await socket.NextAsync("welcome");
        await socket.SendAsync(new { type = "ping", @ref = "off" });
        Assert.Equal("off", (await socket.NextAsync("pong")).GetProperty("ref").GetString());
    }

    private static async Task<int> StatusAsync(TestServer server, byte[] request)
    {
        using var tcp = await ConnectAsync(server);
        var stream = tcp.GetStream();
        await WriteAsync(stream, request);
        var head = await ReadHeadAsync(stream);
        Assert.Contains("X-Content-Type-Options: nosniff", head, StringComparison.Ordinal);
        return int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<TcpClient> ConnectAsync(TestServer server)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Timeout);
        return tcp;
    }

    private static byte[] Upgrade(TestServer server, string key, string extraHeaders) => Encoding.ASCII.GetBytes(
        $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n");

    private static string NewKey() => Convert.ToBase64String(Guid.NewGuid().ToByteArray());

    private static Task WriteAsync(NetworkStream stream, byte[] bytes) => stream.WriteAsync(bytes).AsTask().WaitAsync(Timeout);

    /// <summary>The response's status line and headers, read a byte at a time so nothing after them is taken.</summary>
    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one).AsTask().WaitAsync(Timeout) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>The response's body after <paramref name="head"/>: by its Content-Length, or chunked up to its last chunk.</summary>
    private static async Task<string> ReadBodyAsync(NetworkStream stream, string head)
    {
        var body = new StringBuilder();
        var one = new byte[1];
        var length = System.Text.RegularExpressions.Regex.Match(head, "(?i)content-length: *([0-9]+)");
        bool Done() => length.Success
            ? body.Length >= int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : body.ToString().EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal) || body.ToString() == "0\r\n\r\n";
        while (!Done() && await stream.ReadAsync(one).AsTask().WaitAsync(Timeout) > 0)
        {
            body.Append((char)one[0]);
        }

        return body.ToString();
    }

    /// <summary>Wraps the server's IChatStore to count the sessions looked up by token.</summary>
    internal sealed class SessionLookups
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Install(IServiceCollection services)
        {
            var original = services.Last(d => d.ServiceType == typeof(IChatStore)).ImplementationFactory!;
            services.AddSingleton(sp =>
            {
                var proxy = DispatchProxy.Create<IChatStore, CountingStore>();
                ((CountingStore)(object)proxy).Init((IChatStore)original(sp), this);
                return proxy;
            });
        }

        internal void Counted() => Interlocked.Increment(ref _count);
    }

    public class CountingStore : DispatchProxy
    {
        private IChatStore _inner = null!;
        private SessionLookups _lookups = null!;

        internal void Init(IChatStore inner, SessionLookups lookups) => (_inner, _lookups) = (inner, lookups);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IChatStore.FindSessionAsync))
            {
                _lookups.Counted();
            }

            return targetMethod.Invoke(_inner, args);
        }
    }

    private static byte[] MaskedText(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var mask = new byte[] { 1, 2, 3, 4 };
        var frame = new List<byte> { 0x81, (byte)(0x80 | payload.Length) };
        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        return [.. frame];
    }

    private static async Task SendAsync(WebSocket ws, string text) =>
        await ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(Timeout);

    private static async Task<JsonElement> NextAsync(WebSocket ws)
    {
        var buffer = new byte[64 * 1024];
        var total = 0;
        ValueWebSocketReceiveResult r;
        do
        {
            r = await ws.ReceiveAsync(buffer.AsMemory(total), CancellationToken.None).AsTask().WaitAsync(Timeout);
            total += r.Count;
        }
        while (!r.EndOfMessage);

        return JsonDocument.Parse(buffer.AsMemory(0, total)).RootElement.Clone();
    }

    private static async Task<JsonElement> NextOfTypeAsync(WebSocket ws, string type)
    {
        while (true)
        {
            var frame = await NextAsync(ws);
            if (frame.GetProperty("type").GetString() == type)
            {
                return frame;
            }
        }
    }
}
