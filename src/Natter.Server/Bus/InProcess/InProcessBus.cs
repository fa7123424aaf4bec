using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Natter.Server.Hosting;

namespace Natter.Server.Bus.InProcess;

/// <summary>The one-node bus: a bounded channel straight to the local fan-out. Full mode: the publisher waits.</summary>
public sealed class InProcessBus(IOptions<NatterOptions> options) : IMessageBus
{
    private readonly Channel<BusEvent> _channel = Channel.CreateBounded<BusEvent>(
        new BoundedChannelOptions(options.Value.Limits.IngestQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    public ChannelReader<BusEvent> Events => _channel.Reader;

    public bool IsHealthy => true;

    public ValueTask PublishAsync(BusEvent evt, CancellationToken ct) => _channel.Writer.WriteAsync(evt, ct);
}
