using Natter.Protocol;
using Natter.Server.Bus;
using Natter.Server.Storage;

namespace Natter.Server.Sending;

/// <summary>A reaction change as a client asks for it: Emoji on (added) or off (removed) on the message at seq Target.</summary>
public readonly record struct ReactRequest(string? Room, long Target, string? Emoji, bool On, string? ClientId);

/// <summary>
/// The react use case (socket and HTTP): the emoji rule, client_id rule, membership, rate; the group commit then
/// checks that the target is a live message, answers a change that changes nothing with seq null, and refuses a new
/// emoji past Limits.MaxReactionEmoji with "limit".
/// </summary>
public sealed class ReactService(EventIntake intake, TimeProvider clock)
{
    public async ValueTask<Refusal?> SubmitAsync(Caller caller, ReactRequest request, IAckTarget target, string? reference, CancellationToken ct) =>
        await intake.SubmitAsync(await PrepareAsync(caller, request, ct), target, reference, ct);

    public async Task<(AppendResult? Result, Refusal Refusal)> ReactAndWaitAsync(Caller caller, ReactRequest request, CancellationToken ct) =>
        await intake.SubmitAndWaitAsync(await PrepareAsync(caller, request, ct), ct);

    private async ValueTask<(NewEvent?, Refusal)> PrepareAsync(Caller caller, ReactRequest request, CancellationToken ct)
    {
        var (room, targetSeq, emoji, on, clientId) = request;
        var badEmoji = Validation.IsValidEmoji(emoji) ? (Refusal?)null
            : new Refusal(ErrorCodes.BadRequest, $"An emoji has 1–{Validation.EmojiMax} characters and no white space or control characters.");
        if ((intake.CheckRunning() ?? badEmoji ?? EventIntake.CheckClientId(clientId) ?? EventIntake.CheckTarget(targetSeq)
            ?? await intake.CheckRoomAsync(caller, room, ct) ?? intake.TakeRate(caller)) is { } refused)
        {
            return (null, refused);
        }

        return (new NewEvent(room!, caller.UserId, caller.Username, EventKind.Reaction, EventIntake.ClientIdOrNew(clientId), clock.GetUtcNow().ToUnixTimeMilliseconds())
        {
            Target = targetSeq,
            Emoji = emoji,
            On = on,
        }, default);
    }
}
