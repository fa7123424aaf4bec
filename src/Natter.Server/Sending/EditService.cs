using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>An edit as a client asks for it: the message at seq Target of Room gets Text.</summary>
public readonly record struct EditRequest(string? Room, long Target, string? Text, string? ClientId);

/// <summary>
/// The edit use case (socket and HTTP): text and client_id rules, membership, rate, the new text's mentions; the
/// group commit then checks that the target is a live message of the room and that the caller wrote it.
/// </summary>
public sealed class EditService(EventIntake intake, MentionFinder mentions, TimeProvider clock)
{
    public async ValueTask<Refusal?> SubmitAsync(Caller caller, EditRequest request, IAckTarget target, string? reference, CancellationToken ct) =>
        await intake.SubmitAsync(await PrepareAsync(caller, request, ct), target, reference, ct);

    public async Task<(AppendResult? Result, Refusal Refusal)> EditAndWaitAsync(Caller caller, EditRequest request, CancellationToken ct) =>
        await intake.SubmitAndWaitAsync(await PrepareAsync(caller, request, ct), ct);

    private async ValueTask<(NewEvent?, Refusal)> PrepareAsync(Caller caller, EditRequest request, CancellationToken ct)
    {
        var (room, targetSeq, text, clientId) = request;
        var badText = intake.CheckText(text, out var trimmed);
        if ((intake.CheckRunning() ?? badText ?? EventIntake.CheckClientId(clientId)
            ?? EventIntake.CheckTarget(targetSeq) ?? await intake.CheckRoomAsync(caller, room, ct) ?? intake.TakeRate(caller)) is { } refused)
        {
            return (null, refused);
        }

        return (new NewEvent(room!, caller.UserId, caller.Username, EventKind.Edit, EventIntake.ClientIdOrNew(clientId), clock.GetUtcNow().ToUnixTimeMilliseconds())
        {
            Target = targetSeq,
            Text = trimmed,
            Mentions = await mentions.FindAsync(room!, trimmed, ct),
        }, default);
    }
}
