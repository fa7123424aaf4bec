using System.Net;
using System.Net.Http.Json;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>
/// Issue 9, item 10: when the store refuses writes (here a real SQLITE_FULL: the file may not grow past
/// Storage:SqliteMaxSizeMiB), every write answers 503 problem details, never 500, and readiness says so.
/// </summary>
public sealed class StoreFailureTests
{
    [Fact]
    public async Task A_full_store_answers_writes_with_503_and_readiness_reports_it()
    {
        await using var server = await TestServer.StartAsync(
            "Natter:Storage:SqliteMaxSizeMiB=1",
            "Natter:Limits:SendsPerSecond=100000", "Natter:Limits:SendBurst=100000",
            "Natter:Limits:RoomCreationsPerHour=100000", "Natter:Limits:RegistrationsPerAddressPerHour=100000");
        var user = await server.UserAsync();
        var room = await user.CreateRoomAsync();
        using var http = user.Http();
        using var anonymous = server.Http();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz/ready")).StatusCode);

        // Fill the store until it refuses a message.
        var text = new string('x', 3500);
        for (var i = 0; ; i++)
        {
            Assert.True(i < 2000, "the store never filled up");
            var r = await http.PostAsJsonAsync($"/api/rooms/{room}/messages", new { text, client_id = $"{i}" });
            if (r.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await anonymous.GetAsync("/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz/live")).StatusCode);

        // Each kind of write fills what room its table still has, then gets 503 problems; never a 500.
        await UntilRefusedAsync(() => anonymous.PostAsJsonAsync("/api/login", new { username = user.Username, password = "correct horse battery" }), HttpStatusCode.OK);
        var n = 0;
        await UntilRefusedAsync(() => anonymous.PostAsJsonAsync("/api/register", new { username = $"late{n++}", password = "long enough" }), HttpStatusCode.Created);
        await UntilRefusedAsync(() => http.PostAsJsonAsync("/api/rooms", new { name = $"room {n++}" }), HttpStatusCode.Created);
    }

    private static async Task UntilRefusedAsync(Func<Task<HttpResponseMessage>> write, HttpStatusCode success)
    {
        for (var i = 0; i < 1000; i++)
        {
            var r = await write();
            if (r.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                await Problem.AssertAsync(r, HttpStatusCode.ServiceUnavailable);
                return;
            }

            Assert.Equal(success, r.StatusCode);
        }

        Assert.Fail("the full store kept accepting writes");
    }
}
