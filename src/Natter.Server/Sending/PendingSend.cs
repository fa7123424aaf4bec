using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>
/// A checked message waiting in the ingest queue, and how its sender is answered once the group commit has decided:
/// a socket sender through <see cref="Target"/> (its ack rides with the fan-out, a repeat's ack leaves from the commit
/// thread), an HTTP sender through <see cref="Completion"/>.
/// </summary>
public sealed class PendingSend
{
    private PendingSend(NewMessage message, IAckTarget? target, string? reference, TaskCompletionSource<AppendResult>? completion)
    {
        Message = message;
        Target = target;
        Reference = reference;
        Completion = completion;
    }

    public NewMessage Message { get; }

    public IAckTarget? Target { get; }

    public string? Reference { get; }

    public TaskCompletionSource<AppendResult>? Completion { get; }

    public static PendingSend ForSocket(NewMessage message, IAckTarget target, string? reference) => new(message, target, reference, null);

    public static PendingSend ForHttp(NewMessage message) =>
        new(message, null, null, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Stored now: the HTTP sender has its answer; a socket sender's ack is returned to travel with the fan-out.</summary>
    public PendingAck? Stored(AppendResult result)
    {
        Completion?.TrySetResult(result);
        return Target is null ? null : new PendingAck(Target, Reference, result.Message);
    }

    /// <summary>Stored before (same client_id): nothing goes to the fan-out, so the first ack is repeated now.</summary>
    public void Repeated(AppendResult result)
    {
        Completion?.TrySetResult(result);
        if (Target is { } target)
        {
            target.QueueAck(Reference, result.Message);
            target.Flush();
        }
    }

    /// <summary>The commit failed: nothing was stored, and the sender is told to send again.</summary>
    public void Failed(Exception error)
    {
        Target?.SendError(ErrorCodes.Internal, "the message could not be stored; send it again", Reference);
        Completion?.TrySetException(error);
    }
}
