namespace Natter.TestSupport;

/// <summary>Every wait in the tests is bounded: this is the bound, and the one way to poll for a condition.</summary>
public static class Wait
{
    /// <summary>How long a single step (a request, a frame, a start) may take before the test fails.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    /// <summary>Polls until the condition holds; throws a TimeoutException that names it when the time is up.</summary>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? within = null, CancellationToken cancellationToken = default) =>
        UntilAsync(() => Task.FromResult(condition()), what, within, cancellationToken);

    /// <inheritdoc cref="UntilAsync(Func{bool}, string, TimeSpan?, CancellationToken)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null, CancellationToken cancellationToken = default)
    {
        var limit = within ?? Step;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            while (!await condition().WaitAsync(timeout.Token))
            {
                await Task.Delay(20, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Not within {limit.TotalSeconds} s: {what}");
        }
    }
}
