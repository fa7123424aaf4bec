using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Bus.Redis;
using Natter.Server.Common;
using Natter.Server.Storage;
using Natter.TestSupport.Specs;

namespace Natter.ClusterTests;

/// <summary>The bus spec on Redis, plus what only several nodes show: each node hears the others' events once, without their local envelope.</summary>
public sealed class RedisBusTests : BusSpec
{
    protected override async Task<IBusNode> StartNodeAsync(string cluster)
    {
        var options = Options.Create(new NatterOptions
        {
            Bus = { Provider = "redis", RedisConnectionString = TestServices.Redis, RedisPrefix = cluster },
        });
        var connection = new RedisConnection(options, NullLogger<RedisConnection>.Instance);
        await connection.StartingAsync(Ct);
        var bus = new RedisBus(connection, UnusedStore.Create(), options, TimeProvider.System, Metrics.Create(), NullLogger<RedisBus>.Instance);
        await bus.StartingAsync(Ct);
        return new Node(connection, bus);
    }

    [Fact]
    public async Task Another_node_hears_an_event_once_without_the_local_envelope()
    {
        var cluster = NewCluster();
        await using var a = await StartNodeAsync(cluster);
        await using var b = await StartNodeAsync(cluster);
        var m = Message("r1", 1);
        await a.Bus.PublishAsync(new MessagesStored([m]), new LocalEnvelope([]), Ct);

        var onA = await NextAsync(a.Bus);
        var onB = await NextAsync(b.Bus);
        Assert.NotNull(onA.Local);
        Assert.Null(onB.Local);
        Assert.Equal([m], Assert.IsType<MessagesStored>(onB.Event).Messages);

        // Nothing else arrives: A does not hear its own event back from Redis, B hears it once.
        await a.Bus.PublishAsync(new SessionRevoked(7), Ct);
        Assert.IsType<SessionRevoked>((await NextAsync(a.Bus)).Event);
        Assert.IsType<SessionRevoked>((await NextAsync(b.Bus)).Event);
    }

    private sealed class Node(RedisConnection connection, RedisBus bus) : IBusNode
    {
        public IMessageBus Bus => bus;

        public async ValueTask DisposeAsync()
        {
            await bus.StopAsync(CancellationToken.None);
            bus.Dispose();
            await connection.DisposeAsync();
        }
    }
}
