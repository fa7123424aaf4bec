using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Natter.Protocol;
using Natter.Tests.Infrastructure;

namespace Natter.Tests.Security;

/// <summary>Issue 9, item 8: a room name is NFC text that renders: no control or format characters, never blank.</summary>
public sealed class RoomNameTests
{
    public static TheoryData<string> Refused => new()
    {
        "",
        "   ",
        "a\u0000b",             // NUL
        "line\nbreak",          // control
        "tab\there",
        "bell\u0007",
        "admin\u202Eevil",      // right-to-left override
        "a\u2066b\u2069",       // isolates
        "zero\u200Bwidth",      // zero-width space (format)
        "soft\u00ADhyphen",     // soft hyphen (format)
        "\uFEFFbom",            // byte order mark
        "a\u2028b",             // line separator
        "\u200B\u200C\u200D",   // zero-width only
        new string('\u0301', 63), // combining marks only
        "\u0301\u0302 \u0303",
        "\u3164",               // Hangul filler: renders blank
        "\u2800\u2800",         // braille blank
        "a\u200Db",             // a joiner between letters is not an emoji sequence
        "\u200D\U0001F600",     // nor at the start
        "\U0001F600\u200D",     // nor at the end
        "a\u200Cb",             // a non-joiner between Latin letters
        "\u0645\u06CC\u200C",   // a non-joiner ending Arabic-script text
        "\u200C\u0645\u06CC",   // or starting it
        "\u0645\u200C\u200C\u06CC", // two in a row
        "\u0915\u200D\u0937",   // a joiner in Devanagari without a virama before it
        "x\uD800y",             // a lone surrogate
        new string('x', 65),
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Names_with_control_or_format_characters_or_that_render_blank_are_refused(string name)
    {
        Assert.Null(Validation.NormalizeRoomName(name));
    }

    public static TheoryData<string, string> Accepted => new()
    {
        { "  lobby  ", "lobby" },
        { "cafe\u0301", "caf\u00E9" },                            // NFC
        { "\u00C5ngstr\u00F6m", "\u00C5ngstr\u00F6m" },
        { "\U0001F468\u200D\U0001F469\u200D\U0001F467 family", "\U0001F468\u200D\U0001F469\u200D\U0001F467 family" }, // ZWJ in an emoji sequence
        { "\U0001F3F3\uFE0F\u200D\U0001F308", "\U0001F3F3\uFE0F\u200D\U0001F308" },                                 // rainbow flag (VS16 then ZWJ)
        { "\U0001F44B\U0001F3FD\u200D\u2642\uFE0F", "\U0001F44B\U0001F3FD\u200D\u2642\uFE0F" },                     // skin tone then ZWJ
        { "\u05E9\u05DC\u05D5\u05DD", "\u05E9\u05DC\u05D5\u05DD" },  // Hebrew
        { "\u0928\u092E\u0938\u094D\u0924\u0947", "\u0928\u092E\u0938\u094D\u0924\u0947" }, // Devanagari with marks
        { "e\u0301", "\u00E9" },
        { "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645" }, // Persian "I want": a non-joiner inside the word
        { "\u0915\u094D\u200D\u0937", "\u0915\u094D\u200D\u0937" },       // Devanagari: virama, joiner, letter (half form)
        { "\u0D28\u0D4D\u200C\u0D28", "\u0D28\u0D4D\u200C\u0D28" },       // Malayalam: virama, non-joiner, letter
        { new string('x', 64), new string('x', 64) },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Names_are_trimmed_and_normalized_to_nfc(string name, string expected)
    {
        Assert.Equal(expected, Validation.NormalizeRoomName(name));
    }

    [Fact]
    public async Task The_api_refuses_a_bidi_override_and_stores_names_in_nfc()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.UserAsync();
        using var http = user.Http();
        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/rooms", new { name = "admin\u202Eevil" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await http.PostAsJsonAsync("/api/rooms", new { name = "\u200B\u200B" }), HttpStatusCode.BadRequest);

        var created = await http.PostAsJsonAsync("/api/rooms", new { name = "cafe\u0301" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("caf\u00E9", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        Assert.Equal("caf\u00E9", (await http.GetFromJsonAsync<JsonElement[]>("/api/rooms/public"))!.Single().GetProperty("name").GetString());
    }
}
