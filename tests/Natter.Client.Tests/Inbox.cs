namespace Natter.Client.Tests;

/// <summary>Records what a client receives, so a test can wait (Wait.UntilAsync) until it has seen something.</summary>
internal sealed class Inbox
{
    private readonly Lock _gate = new();
    private readonly List<ChatMessage> _messages = [];
    private readonly List<ErrorEvent> _errors = [];
    private readonly List<RoomInfo> _rooms = [];
    private readonly List<TypingEvent> _typing = [];
    private readonly List<ReadEvent> _reads = [];
    private readonly List<PresenceEvent> _presence = [];
    private readonly List<MemberEvent> _members = [];
    private int _connects;
    private int _disconnects;

    public Inbox(NatterClient client)
    {
        client.MessageReceived += m => { lock (_gate) { _messages.Add(m); } };
        client.Error += e => { lock (_gate) { _errors.Add(e); } };
        client.RoomAdded += r => { lock (_gate) { _rooms.Add(r); } };
        client.Typing += t => { lock (_gate) { _typing.Add(t); } };
        client.Read += r => { lock (_gate) { _reads.Add(r); } };
        client.PresenceChanged += p => { lock (_gate) { _presence.Add(p); } };
        client.MemberChanged += m => { lock (_gate) { _members.Add(m); } };
        client.Connected += _ => Interlocked.Increment(ref _connects);
        client.Disconnected += _ => Interlocked.Increment(ref _disconnects);
    }

    public int Connects => Volatile.Read(ref _connects);

    public int Disconnects => Volatile.Read(ref _disconnects);

    public List<ChatMessage> Messages { get { lock (_gate) { return [.. _messages]; } } }

    public List<ErrorEvent> Errors { get { lock (_gate) { return [.. _errors]; } } }

    public List<RoomInfo> Rooms { get { lock (_gate) { return [.. _rooms]; } } }

    public List<TypingEvent> TypingEvents { get { lock (_gate) { return [.. _typing]; } } }

    public List<ReadEvent> Reads { get { lock (_gate) { return [.. _reads]; } } }

    public List<PresenceEvent> Presence { get { lock (_gate) { return [.. _presence]; } } }

    public List<MemberEvent> Members { get { lock (_gate) { return [.. _members]; } } }
}
