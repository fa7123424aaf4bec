using System.Net;

namespace Natter.Client.Tests;

public sealed class NatterClientTests
{
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    private static async Task<NatterClient> LoggedInAsync(Uri baseUri, string username, NatterClientOptions? options = null)
    {
        var client = new NatterClient(baseUri, options ?? new NatterClientOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(50) });
        Assert.True(await client.RegisterAsync(username, Password, Ct).WaitAsync(Step, Ct));
        await client.LoginAsync(username, Password, Ct).WaitAsync(Step, Ct);
        return client;
    }

    [Fact]
    public async Task A_logged_in_client_connects_sends_and_gets_the_ack_and_its_own_message()
    {
        await using var server = await TestServer.StartAsync();
        var name = NewName("alice");
        await using var alice = await LoggedInAsync(server.BaseUri, name);
        var room = await alice.CreateRoomAsync("general", Ct).WaitAsync(Step, Ct);
        var inbox = new Inbox(alice);

        var welcome = await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);
        var ack = await alice.SendAsync(room.Id, "  hello world  ", "cid-1", Ct).WaitAsync(Step, Ct);

        Assert.Equal(name, welcome.Username);
        Assert.Contains(welcome.Rooms, r => r.Id == room.Id && r.Kind == "group");
        Assert.Equal(room.Id, ack.Room);
        Assert.Equal(1, ack.Seq);
        Assert.Equal("cid-1", ack.ClientId);
        Assert.InRange(ack.Ts, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        await Wait.UntilAsync(() => inbox.Messages.Count == 1, "own message", cancellationToken: Ct);
        var own = inbox.Messages.Single();
        Assert.Equal(new ChatMessage(room.Id, 1, name, "hello world", ack.Ts, "cid-1"), own);
        Assert.Equal(1, alice.LastSeqs[room.Id]);
        Assert.Empty(inbox.Errors);
    }

    [Fact]
    public async Task Two_clients_exchange_room_messages_direct_messages_typing_and_reads()
    {
        await using var server = await TestServer.StartAsync();
        var aliceName = NewName("alice");
        var bobName = NewName("bob");
        await using var alice = await LoggedInAsync(server.BaseUri, aliceName);
        await using var bob = await LoggedInAsync(server.BaseUri, bobName);
        var room = await alice.CreateRoomAsync("pair", Ct).WaitAsync(Step, Ct);
        await bob.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        var aliceInbox = new Inbox(alice);
        var bobInbox = new Inbox(bob);
        await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);
        await bob.ConnectAsync(Ct).WaitAsync(Step, Ct);

        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync(room.Id, $"a{i}", cancellationToken: Ct).WaitAsync(Step, Ct);
            await bob.SendAsync(room.Id, $"b{i}", cancellationToken: Ct).WaitAsync(Step, Ct);
        }
        await bob.TypingAsync(room.Id, Ct).WaitAsync(Step, Ct);
        await bob.MarkReadAsync(room.Id, 10, Ct).WaitAsync(Step, Ct);
        var direct = await alice.SendDirectAsync(bobName, "psst", cancellationToken: Ct).WaitAsync(Step, Ct);

        string[] expected = ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"];
        foreach (var inbox in new[] { aliceInbox, bobInbox })
        {
            await Wait.UntilAsync(() => inbox.Messages.Count(m => m.Room == room.Id) == 10, "10 room messages", cancellationToken: Ct);
            var inRoom = inbox.Messages.Where(m => m.Room == room.Id).ToList();
            Assert.Equal(expected, inRoom.Select(m => m.Text));
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), inRoom.Select(m => m.Seq));
        }
        await Wait.UntilAsync(() => bobInbox.Messages.Any(m => m.Room == direct.Room), "direct message", cancellationToken: Ct);
        Assert.Equal("psst", bobInbox.Messages.Single(m => m.Room == direct.Room).Text);
        Assert.Equal(aliceName, bobInbox.Messages.Single(m => m.Room == direct.Room).From);
        Assert.Contains(bobInbox.Rooms, r => r.Id == direct.Room && r.Kind == "direct");
        await Wait.UntilAsync(() => aliceInbox.TypingEvents.Count > 0 && aliceInbox.Reads.Count > 0, "typing and read", cancellationToken: Ct);
        Assert.Equal(new TypingEvent(room.Id, bobName), aliceInbox.TypingEvents[0]);
        Assert.Equal(new ReadEvent(room.Id, bobName, 10), aliceInbox.Reads[0]);
        Assert.Empty(aliceInbox.Errors);
        Assert.Empty(bobInbox.Errors);
    }

    [Fact]
    public async Task A_client_sees_members_join_and_leave_and_come_online_and_go_offline()
    {
        await using var server = await TestServer.StartAsync();
        var bobName = NewName("bob");
        await using var alice = await LoggedInAsync(server.BaseUri, NewName("alice"));
        var room = await alice.CreateRoomAsync("presence", Ct).WaitAsync(Step, Ct);
        var inbox = new Inbox(alice);
        await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);

        var bob = await LoggedInAsync(server.BaseUri, bobName);
        await bob.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => inbox.Members.Contains(new MemberEvent(room.Id, bobName, "joined")), "bob joined", cancellationToken: Ct);
        await bob.ConnectAsync(Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => inbox.Presence.Contains(new PresenceEvent(bobName, true)), "bob online", cancellationToken: Ct);
        await bob.DisposeAsync();
        await Wait.UntilAsync(() => inbox.Presence.Contains(new PresenceEvent(bobName, false)), "bob offline", cancellationToken: Ct);
        await using var bobOverHttp = new NatterClient(server.BaseUri);
        bobOverHttp.UseToken(bob.Token!);
        await bobOverHttp.LeaveRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        await Wait.UntilAsync(() => inbox.Members.Contains(new MemberEvent(room.Id, bobName, "left")), "bob left", cancellationToken: Ct);
    }

    [Fact]
    public async Task A_client_reconnects_after_a_server_restart_and_syncs_missed_messages_exactly_once()
    {
        await using var server = await TestServer.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var alice = await LoggedInAsync(server.BaseUri, NewName("alice"), new NatterClientOptions
        {
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            // Holds alice's reconnect until bob has sent what she must miss.
            BeforeReconnect = (_, ct) => new ValueTask(gate.Task.WaitAsync(ct)),
        });
        await using var bob = await LoggedInAsync(server.BaseUri, NewName("bob"));
        var room = await alice.CreateRoomAsync("restart", Ct).WaitAsync(Step, Ct);
        await bob.JoinRoomAsync(room.Id, Ct).WaitAsync(Step, Ct);
        var inbox = new Inbox(alice);
        await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);
        for (var i = 1; i <= 3; i++)
        {
            await bob.PostMessageAsync(room.Id, $"before {i}", cancellationToken: Ct).WaitAsync(Step, Ct);
        }
        await Wait.UntilAsync(() => inbox.Messages.Count == 3, "3 live messages", cancellationToken: Ct);

        await server.RestartAsync().WaitAsync(TimeSpan.FromSeconds(20), Ct);
        await Wait.UntilAsync(() => inbox.Disconnects == 1, "alice sees the drop", cancellationToken: Ct);
        await bob.LoginAsync(bob.Username!, Password, Ct).WaitAsync(Step, Ct);
        for (var i = 4; i <= 50; i++)
        {
            await bob.PostMessageAsync(room.Id, $"missed {i}", cancellationToken: Ct).WaitAsync(Step, Ct);
        }
        gate.SetResult();
        await Wait.UntilAsync(() => inbox.Connects == 2 && alice.IsConnected, "alice reconnects", cancellationToken: Ct);
        for (var i = 51; i <= 55; i++)
        {
            await bob.PostMessageAsync(room.Id, $"after {i}", cancellationToken: Ct).WaitAsync(Step, Ct);
        }

        await Wait.UntilAsync(() => inbox.Messages.Count >= 55, "55 messages", cancellationToken: Ct);
        await Task.Delay(200, Ct); // Anything duplicated would arrive by now.
        Assert.Equal(Enumerable.Range(1, 55).Select(i => (long)i), inbox.Messages.Select(m => m.Seq));
        Assert.Equal("missed 4", inbox.Messages[3].Text);
        Assert.Equal(0, alice.DuplicatesDropped);
        Assert.Equal(0, alice.GapsSeen);
        Assert.Equal(55, alice.LastSeqs[room.Id]);
    }

    [Fact]
    public async Task A_send_whose_ack_was_lost_is_resent_with_the_same_client_id_and_stored_once()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = new TcpProxy(server.Port);
        var name = NewName("alice");
        await using var alice = await LoggedInAsync(proxy.BaseUri, name);
        var room = await alice.CreateRoomAsync("lossy", Ct).WaitAsync(Step, Ct);
        var inbox = new Inbox(alice);
        await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);
        await alice.SendAsync(room.Id, "first", "cid-first", Ct).WaitAsync(Step, Ct);

        proxy.DropServerToClientOnCurrentConnections();
        var send = alice.SendAsync(room.Id, "second", "cid-second", Ct);
        // The server stores it and acks into the void.
        await using var observer = new NatterClient(server.BaseUri);
        observer.UseToken(alice.Token!);
        await Wait.UntilAsync(async () => (await observer.GetMessagesAsync(room.Id, after: 0, cancellationToken: Ct)).Count == 2, "second stored", cancellationToken: Ct);
        Assert.False(send.IsCompleted);
        Assert.Equal(1, alice.PendingSends);
        proxy.CutCurrentConnections();

        var ack = await send.WaitAsync(Step, Ct);

        Assert.Equal(2, ack.Seq);
        Assert.Equal("cid-second", ack.ClientId);
        var stored = await observer.GetMessagesAsync(room.Id, after: 0, cancellationToken: Ct).WaitAsync(Step, Ct);
        Assert.Equal(["first", "second"], stored.Select(m => m.Text));
        await Wait.UntilAsync(() => inbox.Messages.Count == 2, "second delivered by sync", cancellationToken: Ct);
        Assert.Equal([1L, 2L], inbox.Messages.Select(m => m.Seq));
        Assert.Equal(2, inbox.Connects);
        Assert.Equal(0, alice.PendingSends);
    }

    [Fact]
    public async Task A_send_made_while_disconnected_is_delivered_after_the_reconnect()
    {
        await using var server = await TestServer.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var alice = await LoggedInAsync(server.BaseUri, NewName("alice"), new NatterClientOptions
        {
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
            BeforeReconnect = (_, ct) => new ValueTask(gate.Task.WaitAsync(ct)),
        });
        var room = await alice.CreateRoomAsync("offline", Ct).WaitAsync(Step, Ct);
        var inbox = new Inbox(alice);
        await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);

        await server.RestartAsync().WaitAsync(TimeSpan.FromSeconds(20), Ct);
        await Wait.UntilAsync(() => inbox.Disconnects == 1, "drop", cancellationToken: Ct);
        var send = alice.SendAsync(room.Id, "queued", "cid-queued", Ct);
        Assert.False(send.IsCompleted);
        gate.SetResult();
        var ack = await send.WaitAsync(Step, Ct);

        Assert.Equal(1, ack.Seq);
        await Wait.UntilAsync(() => inbox.Messages.Count == 1, "queued message delivered", cancellationToken: Ct);
        Assert.Equal("queued", inbox.Messages[0].Text);
    }

    [Fact]
    public async Task A_direct_room_created_while_the_client_was_away_is_synced_from_its_first_message()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = new TcpProxy(server.Port);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aliceName = NewName("alice");
        await using var alice = await LoggedInAsync(proxy.BaseUri, aliceName, new NatterClientOptions
        {
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
            BeforeReconnect = (_, ct) => new ValueTask(gate.Task.WaitAsync(ct)),
        });
        await using var bob = await LoggedInAsync(server.BaseUri, NewName("bob"));
        var inbox = new Inbox(alice);
        await alice.ConnectAsync(Ct).WaitAsync(Step, Ct);

        proxy.CutCurrentConnections();
        await Wait.UntilAsync(() => inbox.Disconnects == 1, "drop", cancellationToken: Ct);
        var direct = await bob.OpenDirectAsync(aliceName, Ct).WaitAsync(Step, Ct);
        await bob.PostMessageAsync(direct.Id, "while you were out", cancellationToken: Ct).WaitAsync(Step, Ct);
        await bob.PostMessageAsync(direct.Id, "second", cancellationToken: Ct).WaitAsync(Step, Ct);
        gate.SetResult();

        await Wait.UntilAsync(() => inbox.Messages.Count == 2, "both direct messages", cancellationToken: Ct);
        Assert.Equal(["while you were out", "second"], inbox.Messages.Select(m => m.Text));
        Assert.All(inbox.Messages, m => Assert.Equal(direct.Id, m.Room));
        Assert.Empty(inbox.Errors);
    }

    [Fact]
    public async Task Messages_listed_and_posted_over_http_carry_their_client_id()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await LoggedInAsync(server.BaseUri, NewName("alice"));
        var room = await alice.CreateRoomAsync("http", Ct).WaitAsync(Step, Ct);

        var posted = await alice.PostMessageAsync(room.Id, "over http", "cid-http", Ct).WaitAsync(Step, Ct);
        var again = await alice.PostMessageAsync(room.Id, "over http", "cid-http", Ct).WaitAsync(Step, Ct);
        var listed = await alice.GetMessagesAsync(room.Id, after: 0, cancellationToken: Ct).WaitAsync(Step, Ct);

        Assert.Equal(posted, again);
        Assert.Equal([posted], listed);
        Assert.Equal("cid-http", listed[0].ClientId);
    }

    [Fact]
    public async Task Wrong_password_and_taken_names_surface_as_http_errors()
    {
        await using var server = await TestServer.StartAsync();
        var name = NewName("carol");
        await using var client = new NatterClient(server.BaseUri);
        Assert.True(await client.RegisterAsync(name, Password, Ct).WaitAsync(Step, Ct));
        Assert.False(await client.RegisterAsync(name.ToUpperInvariant(), Password, Ct).WaitAsync(Step, Ct));
        var e = await Assert.ThrowsAsync<NatterHttpException>(() => client.LoginAsync(name, "wrong password", Ct).WaitAsync(Step, Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
    }
}
