using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.TestSupport.Specs;

/// <summary>
/// What every IMessageBus does, written once and run against the in-process bus (Natter.Tests) and Redis
/// (Natter.ClusterTests): a node's own events reach its fan-out in publish order, with the local envelope beside them.
/// </summary>
public abstract class BusSpec
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A started bus for one node; disposed by the test.</summary>
    protected abstract Task<IBusNode> StartNodeAsync(string cluster);

    protected static string NewCluster() => "bus-" + Guid.NewGuid().ToString("N")[..8];

    protected static StoredEvent Message(string room, long seq) =>
        new(room, seq, EventKind.Message, 1, "amy", 1_700_000_000_000 + seq, $"c-{seq}") { Text = $"text {seq}" };

    protected static async Task<BusDelivery> NextAsync(IMessageBus bus)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Wait.Step);
        return await bus.Events.ReadAsync(timeout.Token);
    }

    [Fact]
    public async Task A_published_event_reaches_its_own_nodes_fanout_with_the_local_envelope_beside_it()
    {
        await using var node = await StartNodeAsync(NewCluster());
        var m = Message("r1", 1);
        var envelope = new LocalEnvelope([new PendingAck(new NoTarget(), "ref-1", m)]);
        await node.Bus.PublishAsync(new EventsStored([m]), envelope, Ct);

        var got = await NextAsync(node.Bus);
        Assert.Equal([m], Assert.IsType<EventsStored>(got.Event).Events);
        Assert.Same(envelope, got.Local);
    }

    [Fact]
    public async Task Events_of_one_publisher_arrive_in_publish_order()
    {
        await using var node = await StartNodeAsync(NewCluster());
        for (var seq = 1; seq <= 500; seq++)
        {
            await node.Bus.PublishAsync(seq % 2 == 0 ? new EventsStored([Message("r1", seq)]) : new TypingEvent("r1", 1, $"user{seq}"), Ct);
        }

        for (var seq = 1; seq <= 500; seq++)
        {
            var got = (await NextAsync(node.Bus)).Event;
            if (seq % 2 == 0)
            {
                Assert.Equal(seq, Assert.IsType<EventsStored>(got).Events[0].Seq);
            }
            else
            {
                Assert.Equal($"user{seq}", Assert.IsType<TypingEvent>(got).Username);
            }
        }
    }

    [Fact]
    public async Task Every_kind_of_event_reaches_the_fanout_unchanged()
    {
        await using var node = await StartNodeAsync(NewCluster());
        BusEvent[] events =
        [
            new EventsStored([Message("r1", 1), Message("r1", 2)]),
            new EventsStored(
            [
                Message("r1", 3) with { ReplyTo = 1, Mentions = ["bob", "cat"] },
                new StoredEvent("r1", 4, EventKind.Edit, 1, "amy", 1_700_000_000_004, "e-4") { Target = 3, Text = "edited @bob", Mentions = ["bob"] },
                new StoredEvent("r1", 5, EventKind.Reaction, 2, "bob", 1_700_000_000_005, "r-5") { Target = 3, Emoji = "👨‍👩‍👧", On = true },
                new StoredEvent("r1", 6, EventKind.Delete, 1, "amy", 1_700_000_000_006, "d-6") { Target = 3 },
                Message("r1", 2) with { Deleted = true, Text = "" },
            ]),
            new TypingEvent("r1", 1, "amy"),
            new ReadEvent("r1", 1, "amy", 2),
            new MemberEvent("r1", 2, "bob", Joined: true, LastSeq: 2),
            new DirectRoomEvent("d1", 1, "amy", 2, "bob", 0),
            new PresenceEvent(1, "amy", true, ["r1", "d1"]),
            new SessionRevoked(42),
            new UserSessionsRevoked(7, 42, Disabled: false),
            new UserSessionsRevoked(7, null, Disabled: true),
        ];
        foreach (var e in events)
        {
            await node.Bus.PublishAsync(e, Ct);
        }

        foreach (var e in events)
        {
            var got = (await NextAsync(node.Bus)).Event;
            Assert.Equal(e.GetType(), got.GetType());
            Assert.Equivalent(e, got, strict: true);
        }
    }

    /// <summary>One node's bus, and whatever it needs to be torn down.</summary>
    public interface IBusNode : IAsyncDisposable
    {
        IMessageBus Bus { get; }
    }

    private sealed class NoTarget : IAckTarget
    {
        public void QueueAck(string? reference, StoredEvent stored)
        {
        }

        public void QueueUnchangedAck(string? reference, string room, string clientId, long ts)
        {
        }

        public void SendError(string code, string message, string? reference)
        {
        }

        public void Flush()
        {
        }

        public void FlushHere()
        {
        }
    }
}
