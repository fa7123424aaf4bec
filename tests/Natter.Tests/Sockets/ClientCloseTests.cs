using System.Net.WebSockets;

namespace Natter.Tests.Sockets;

/// <summary>RFC 6455 §5.5.1: a close the client starts is answered with the server's own close frame, on either upgrade path.</summary>
public sealed class ClientCloseTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_close_the_client_starts_is_answered_with_a_close_frame(bool direct)
    {
        await using var server = await TestServer.StartAsync($"Natter:WebSocket:DirectUpgrade={direct}");
        var user = await server.UserAsync();
        await using var socket = await server.ConnectAsync(user);
        await socket.WelcomeAsync();

        await socket.Raw.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await socket.Closed.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketState.Closed, socket.Raw.State);
    }
}
