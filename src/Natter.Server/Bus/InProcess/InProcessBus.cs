using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Natter.Server.Bus.InProcess;

/// <summary>The one-node bus: a bounded channel straight to the local fan-out. Full mode: the publisher waits.</summary>
public sealed class InProcessBus(IOptions<NatterOptions> options) : IMessageBus
{
    private readonly Channel<BusDelivery> _channel = Channel.CreateBounded<BusDelivery>(
        new BoundedChannelOptions(options.Value.Limits.IngestQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    public ChannelReader<BusDelivery> Events => _channel.Reader;

    public bool IsHealthy => true;

    public ValueTask PublishAsync(BusEvent evt, LocalEnvelope? local, CancellationToken ct) =>
        _channel.Writer.WriteAsync(new BusDelivery(evt, local), ct);
}
