using System.Buffers;
using System.Text;

namespace Natter.Protocol;

/// <summary>The value rules of the protocol (v1, and v2's emoji and mentions), shared by the server and clients.</summary>
public static class Validation
{
    /// <summary>Shortest username.</summary>
    public const int UsernameMin = 3;
    /// <summary>Longest username.</summary>
    public const int UsernameMax = 32;
    /// <summary>Shortest password.</summary>
    public const int PasswordMin = 8;
    /// <summary>Longest password.</summary>
    public const int PasswordMax = 1024;
    /// <summary>Longest room name, in code points after trimming.</summary>
    public const int RoomNameMax = 64;
    /// <summary>Longest client_id, in characters.</summary>
    public const int ClientIdMax = 64;
    /// <summary>Longest message text, in code points after trimming (the server's default limit).</summary>
    public const int TextMax = 4000;
    /// <summary>Longest reaction emoji, in code points.</summary>
    public const int EmojiMax = 16;
    /// <summary>Most files one message may list.</summary>
    public const int FilesMax = 10;

    /// <summary>
    /// The username rule as a regular expression over the lower-cased name (what <see cref="NormalizeUsername"/> accepts),
    /// for clients that check a name before sending it.
    /// </summary>
    public const string UsernamePattern = "^[a-z0-9_.-]{3,32}$";

    private static readonly SearchValues<char> UsernameChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

    /// <summary>Returns the lower-case username, or null when it breaks the rules.</summary>
    public static string? NormalizeUsername(string? input)
    {
        if (input is null || input.Length < UsernameMin || input.Length > UsernameMax)
        {
            return null;
        }

        var lower = input.ToLowerInvariant();
        foreach (var c in lower)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or '-';
            if (!ok)
            {
                return null;
            }
        }

        return lower;
    }

    /// <summary>True when the password's length is within the rules.</summary>
    public static bool IsValidPassword(string? password) =>
        password is not null && password.Length >= PasswordMin && password.Length <= PasswordMax;

    /// <summary>Number of Unicode code points (a surrogate pair counts once).</summary>
    public static int CodePoints(string s)
    {
        var n = 0;
        foreach (var _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    /// <summary>Trims and checks a room name; null when empty or longer than the limit.</summary>
    public static string? NormalizeRoomName(string? input)
    {
        if (input is null)
        {
            return null;
        }

        var trimmed = input.Trim();
        var n = CodePoints(trimmed);
        return n is >= 1 and <= RoomNameMax ? trimmed : null;
    }

    /// <summary>True when a client_id has 1–64 characters.</summary>
    public static bool IsValidClientId(string? clientId) =>
        clientId is { Length: >= 1 and <= ClientIdMax };

    /// <summary>
    /// True when an emoji follows the rules: 1–16 Unicode code points (valid UTF-16), none of them white space or a
    /// control character. A standard emoji ("👍", "👨‍👩‍👧") or a ":short_name:" passes.
    /// </summary>
    public static bool IsValidEmoji(string? emoji)
    {
        if (string.IsNullOrEmpty(emoji))
        {
            return false;
        }

        var span = emoji.AsSpan();
        var n = 0;
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out var rune, out var used) != OperationStatus.Done
                || Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || ++n > EmojiMax)
            {
                return false;
            }

            span = span[used..];
        }

        return true;
    }

    /// <summary>
    /// The usernames a text may mention, lower-case, each once, in order of appearance: "@" at the start or after a
    /// character that is not a letter or digit, then the longest run of username characters without its trailing
    /// "." and "-" ("thanks @Bob." gives "bob"). Only runs of a username's length are kept; the server then keeps
    /// those that name a member of the room.
    /// </summary>
    public static IReadOnlyList<string> MentionCandidates(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            return [];
        }

        var found = new List<string>();
        for (; at >= 0; at = text.IndexOf('@', at + 1))
        {
            if (at > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, at), out var before, out _) == OperationStatus.Done
                && Rune.IsLetterOrDigit(before))
            {
                continue;
            }

            var rest = text.AsSpan(at + 1);
            var length = rest.IndexOfAnyExcept(UsernameChars);
            var run = length < 0 ? rest : rest[..length];
            run = run.TrimEnd(".-");
            if (run.Length is < UsernameMin or > UsernameMax)
            {
                continue;
            }

            var name = run.ToString().ToLowerInvariant();
            if (!found.Contains(name))
            {
                found.Add(name);
            }
        }

        return found;
    }
}
