using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>A deletion as a client asks for it: the message at seq Target of Room.</summary>
public readonly record struct DeleteRequest(string? Room, long Target, string? ClientId);

/// <summary>
/// The delete use case (socket and HTTP): client_id rule, membership (a server admin need not be a member), rate;
/// the group commit then checks that the target is a live message and that the caller is its author, the room's
/// owner (a group room's creator) or a server admin.
/// </summary>
public sealed class DeleteService(EventIntake intake, TimeProvider clock)
{
    public async ValueTask<Refusal?> SubmitAsync(Caller caller, DeleteRequest request, IAckTarget target, string? reference, CancellationToken ct) =>
        await intake.SubmitAsync(await PrepareAsync(caller, request, ct), target, reference, ct);

    public async Task<(AppendResult? Result, Refusal Refusal)> DeleteAndWaitAsync(Caller caller, DeleteRequest request, CancellationToken ct) =>
        await intake.SubmitAndWaitAsync(await PrepareAsync(caller, request, ct), ct);

    private async ValueTask<(NewEvent?, Refusal)> PrepareAsync(Caller caller, DeleteRequest request, CancellationToken ct)
    {
        var (room, targetSeq, clientId) = request;
        if ((intake.CheckRunning() ?? EventIntake.CheckClientId(clientId) ?? EventIntake.CheckTarget(targetSeq)
            ?? await intake.CheckRoomAsync(caller, room, ct, adminMayAct: true) ?? intake.TakeRate(caller)) is { } refused)
        {
            return (null, refused);
        }

        return (new NewEvent(room!, caller.UserId, caller.Username, EventKind.Delete, EventIntake.ClientIdOrNew(clientId), clock.GetUtcNow().ToUnixTimeMilliseconds())
        {
            Target = targetSeq,
            ByAdmin = intake.IsAdmin(caller),
        }, default);
    }
}
