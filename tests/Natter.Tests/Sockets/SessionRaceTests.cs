using System.Net.WebSockets;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Natter.Protocol;
using Natter.Server.Storage;

namespace Natter.Tests.Sockets;

/// <summary>
/// A session revoked while its socket opens: the revocation closes the sockets registered at that moment, so a
/// socket still opening reads its session again once registered and closes itself. The window (after the token
/// check, before the registry) is microseconds wide and has no point a client controls, so the store here revokes
/// the session right after the check, once: a fault injected because it cannot be caused from outside.
/// </summary>
public sealed class SessionRaceTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_session_revoked_right_after_the_token_check_closes_the_opening_socket_as_logged_out(bool direct)
    {
        var revoke = new RevokeAfterCheck();
        await using var server = await TestServer.StartAsync(new ServerOptions
        {
            Settings = [$"Natter:WebSocket:DirectUpgrade={direct}"],
            Services = revoke.Install,
        });
        var user = await server.UserAsync();

        revoke.Arm();
        await using var socket = await server.ConnectAsync(user);
        Assert.Equal((WebSocketCloseStatus)CloseCodes.LoggedOut, await socket.Closed.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(revoke.Fired);

        // The session is gone for every later request too.
        using var http = user.Http();
        using var me = await http.GetAsync("/api/me");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, me.StatusCode);
    }

    /// <summary>Wraps the server's IChatStore: the next session found by its token is deleted as soon as it was found.</summary>
    internal sealed class RevokeAfterCheck
    {
        private int _armed;

        public bool Fired { get; private set; }

        public void Arm() => Volatile.Write(ref _armed, 1);

        public void Install(IServiceCollection services)
        {
            var original = services.Last(d => d.ServiceType == typeof(IChatStore)).ImplementationFactory!;
            services.AddSingleton(sp =>
            {
                var proxy = DispatchProxy.Create<IChatStore, StoreProxy>();
                ((StoreProxy)(object)proxy).Init((IChatStore)original(sp), this);
                return proxy;
            });
        }

        internal async Task<Session?> AfterFindAsync(IChatStore inner, Task<Session?> found)
        {
            var session = await found;
            if (session is not null && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                await inner.DeleteSessionAsync(session.Id, CancellationToken.None);
                Fired = true;
            }

            return session;
        }
    }

    public class StoreProxy : DispatchProxy
    {
        private IChatStore _inner = null!;
        private RevokeAfterCheck _revoke = null!;

        internal void Init(IChatStore inner, RevokeAfterCheck revoke) => (_inner, _revoke) = (inner, revoke);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var result = targetMethod!.Invoke(_inner, args);
            return targetMethod.Name == nameof(IChatStore.FindSessionAsync) ? _revoke.AfterFindAsync(_inner, (Task<Session?>)result!) : result;
        }
    }
}
