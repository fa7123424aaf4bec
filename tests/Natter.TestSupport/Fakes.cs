using System.Diagnostics.Metrics;
using System.Reflection;
using Natter.Server.Common;
using Natter.Server.Storage;

namespace Natter.TestSupport;

/// <summary>A NatterMetrics of its own for each test (the host's IMeterFactory in production).</summary>
public static class Metrics
{
    public static NatterMetrics Create() => new(new TestMeterFactory());

    private sealed class TestMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}

/// <summary>An IChatStore for parts that hold one but must not touch it in the test: every call fails.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1852", Justification = "DispatchProxy needs an unsealed proxy type.")]
public class UnusedStore : DispatchProxy
{
    public static IChatStore Create() => DispatchProxy.Create<IChatStore, UnusedStore>();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        throw new InvalidOperationException($"The unit under test read the store ({targetMethod?.Name}).");
}
