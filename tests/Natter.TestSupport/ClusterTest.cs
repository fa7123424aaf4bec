namespace Natter.TestSupport;

/// <summary>
/// What a cluster test class shares: each test starts its own nodes in <see cref="Cluster"/>, which stops them and
/// drops the test's database when the test ends (xunit makes a new instance per test).
/// </summary>
public abstract class ClusterTest : IAsyncLifetime
{
    protected ClusterScope Cluster { get; } = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
