using Microsoft.Extensions.Options;
using Natter.Server.Bus;
using Natter.Server.Bus.InProcess;
using Natter.Server.Common;
using Natter.TestSupport.Specs;

namespace Natter.Tests.Unit;

/// <summary>The bus spec on the one-node, in-process bus.</summary>
public sealed class InProcessBusTests : BusSpec
{
    protected override Task<IBusNode> StartNodeAsync(string cluster) =>
        Task.FromResult<IBusNode>(new Node(new InProcessBus(Options.Create(new NatterOptions()))));

    private sealed class Node(IMessageBus bus) : IBusNode
    {
        public IMessageBus Bus { get; } = bus;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
