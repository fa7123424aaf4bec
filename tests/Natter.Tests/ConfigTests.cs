using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Natter.Tests.Infrastructure;

namespace Natter.Tests;

public sealed class ConfigTests
{
    [Fact]
    public async Task Config_answers_the_configured_limits_without_a_session_and_the_text_limit_is_the_one_enforced()
    {
        await using var server = await TestServer.StartAsync(
            "Natter:Limits:MaxTextCodePoints=10", "Natter:Limits:SendsPerSecond=7",
            "Natter:Limits:SendBurst=9", "Natter:Limits:EventsPerSecond=3");
        using var anonymous = server.Http();

        var r = await anonymous.GetAsync("/api/config", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var config = await r.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(10, config.GetProperty("max_text").GetInt32());
        Assert.Equal(7, config.GetProperty("sends_per_second").GetInt32());
        Assert.Equal(9, config.GetProperty("send_burst").GetInt32());
        Assert.Equal(3, config.GetProperty("events_per_second").GetInt32());
        Assert.Equal("^[a-z0-9_.-]{3,32}$", config.GetProperty("username_pattern").GetString());
        Assert.Equal(3, config.GetProperty("username_min").GetInt32());
        Assert.Equal(32, config.GetProperty("username_max").GetInt32());
        Assert.Equal(8, config.GetProperty("password_min").GetInt32());
        Assert.Equal(1024, config.GetProperty("password_max").GetInt32());
        Assert.Equal(64, config.GetProperty("room_name_max").GetInt32());

        var user = await server.UserAsync();
        using var http = server.Http(user.Token);
        var room = await (await http.PostAsJsonAsync("/api/rooms", new { name = "limits" }, TestContext.Current.CancellationToken))
            .Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var messages = $"/api/rooms/{room.GetProperty("id").GetString()}/messages";
        var atLimit = await http.PostAsJsonAsync(messages, new { text = "😀23456789a", client_id = "a" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);
        var overLimit = await http.PostAsJsonAsync(messages, new { text = "0123456789a", client_id = "b" }, TestContext.Current.CancellationToken);
        await Problem.AssertAsync(overLimit, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("Natter:Storage:SqliteSearchIndexBatch=0")]
    [InlineData("Natter:Storage:SqliteSearchIndexBatch=many")]
    [InlineData("Natter:Storage:SqliteSearchIndexDelay=-00:00:01")]
    public async Task A_search_index_setting_out_of_range_stops_the_server_naming_the_setting(string setting)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await TestServer.StartAsync(setting));
        Assert.Contains("SqliteSearchIndex", e.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bob")]
    [InlineData("Alice.B-c_1")]
    [InlineData("abcdefghijabcdefghijabcdefghijab")]
    [InlineData("ab")]
    [InlineData("abcdefghijabcdefghijabcdefghijabc")]
    [InlineData("has space")]
    [InlineData("émile")]
    [InlineData("a+b")]
    public async Task The_username_pattern_a_client_checks_accepts_exactly_what_registration_accepts(string name)
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Http();
        var config = await http.GetFromJsonAsync<JsonElement>("/api/config", TestContext.Current.CancellationToken);
        var pattern = config.GetProperty("username_pattern").GetString()!;

        var r = await http.PostAsJsonAsync("/api/register", new { username = name, password = "long enough" }, TestContext.Current.CancellationToken);

        var clientSays = Regex.IsMatch(name.ToLowerInvariant(), pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        Assert.Equal(clientSays ? HttpStatusCode.Created : HttpStatusCode.BadRequest, r.StatusCode);
    }
}
