using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>
/// A checked room event (message, edit, delete, reaction) waiting in the ingest queue, and how its sender is answered
/// once the group commit has decided: a socket sender through <see cref="Target"/> (the ack of a stored event rides
/// with the fan-out; any other answer leaves from the commit thread), an HTTP sender through <see cref="Completion"/>.
/// </summary>
public sealed class PendingEvent
{
    private PendingEvent(NewEvent newEvent, IAckTarget? target, string? reference, TaskCompletionSource<AppendResult>? completion)
    {
        Event = newEvent;
        Target = target;
        Reference = reference;
        Completion = completion;
    }

    public NewEvent Event { get; }

    public IAckTarget? Target { get; }

    public string? Reference { get; }

    public TaskCompletionSource<AppendResult>? Completion { get; }

    public static PendingEvent ForSocket(NewEvent e, IAckTarget target, string? reference) => new(e, target, reference, null);

    public static PendingEvent ForHttp(NewEvent e) =>
        new(e, null, null, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Stored now: the HTTP sender has its answer; a socket sender's ack is returned to travel with the fan-out.</summary>
    public PendingAck? Stored(AppendResult result)
    {
        Completion?.TrySetResult(result);
        return Target is null ? null : new PendingAck(Target, Reference, result.Event!);
    }

    /// <summary>
    /// Decided without a new event (nothing goes to the fan-out), so the answer leaves now: a repeated client_id gets
    /// the first ack again, a reaction that changed nothing an ack with seq null, a refusal its error.
    /// </summary>
    public void Answer(AppendResult result)
    {
        Completion?.TrySetResult(result);
        if (Target is not { } target)
        {
            return;
        }

        switch (result.Outcome)
        {
            case AppendOutcome.Duplicate:
                target.QueueAck(Reference, result.Event!);
                target.Flush();
                break;
            case AppendOutcome.Unchanged:
                target.QueueUnchangedAck(Reference, Event.Room, Event.ClientId, Event.Ts);
                target.Flush();
                break;
            default:
                var refusal = Refusals.Of(result.Outcome, Event.Kind);
                target.SendError(refusal.Code, refusal.Message, Reference);
                break;
        }
    }

    /// <summary>The commit failed: nothing was stored, and the sender is told to send again.</summary>
    public void Failed(Exception error)
    {
        Target?.SendError(ErrorCodes.Internal, "the event could not be stored; send it again", Reference);
        Completion?.TrySetException(error);
    }
}
