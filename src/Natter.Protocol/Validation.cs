using System.Buffers;
using System.Globalization;
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

        // Checked before lower-casing: ToLowerInvariant maps a few non-ASCII letters (the Kelvin sign U+212A) to
        // ASCII ones, which would let "\u212Aate" sign in as "kate".
        return input.AsSpan().ContainsAnyExcept(UsernameChars) ? null : input.ToLowerInvariant();
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

    /// <summary>
    /// A room name as stored: normalized to NFC and trimmed, 1–<see cref="RoomNameMax"/> code points. Null when it is
    /// not valid UTF-16, holds a control, line/paragraph separator or format character (bidi overrides, zero-width
    /// characters; the exceptions are a zero-width joiner inside an emoji sequence, tag characters ending a flag, and
    /// the joiners the writing of a script needs: see <see cref="IsScriptJoiner"/>), or renders blank (only spaces, combining marks, zero-width joiners and blank letters such as U+3164).
    /// </summary>
    public static string? NormalizeRoomName(string? input)
    {
        if (input is null || !IsValidUtf16(input))
        {
            return null;
        }

        var name = input.Normalize(NormalizationForm.FormC).Trim();
        var runes = name.EnumerateRunes().ToArray();
        if (runes.Length is < 1 or > RoomNameMax)
        {
            return null;
        }

        var visible = false;
        for (var i = 0; i < runes.Length; i++)
        {
            var r = runes[i];
            switch (Rune.GetUnicodeCategory(r))
            {
                case UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate:
                    return null;
                case UnicodeCategory.Format:
                    if (!(r.Value == ZeroWidthJoiner && JoinsEmoji(runes, i)) && !IsFlagTag(runes, i) && !IsScriptJoiner(runes, i))
                    {
                        return null;
                    }

                    break;
                case UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                    or UnicodeCategory.SpaceSeparator:
                    break;
                default:
                    visible |= !IsBlankLetter(r);
                    break;
            }
        }

        return visible ? name : null;
    }

    /// <summary>A display name's longest length in code points (protocol v2 §5).</summary>
    public const int DisplayNameMax = 64;

    /// <summary>
    /// A display name as stored: the room name's rules (<see cref="NormalizeRoomName"/>: NFC, trimmed, no control,
    /// separator or stray format characters, not blank), 1–<see cref="DisplayNameMax"/> code points; null otherwise.
    /// </summary>
    public static string? NormalizeDisplayName(string? input) => NormalizeRoomName(input);

    private const int ZeroWidthJoiner = 0x200D;

    private static bool IsValidUtf16(string s)
    {
        var span = s.AsSpan();
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out _, out var used) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            span = span[used..];
        }

        return true;
    }

    /// <summary>A zero-width joiner between an emoji (with its variation selector or skin tone) and another emoji.</summary>
    private static bool JoinsEmoji(Rune[] runes, int i)
    {
        var before = i - 1;
        while (before >= 0 && (runes[before].Value == 0xFE0F || IsEmojiModifier(runes[before])))
        {
            before--;
        }

        return before >= 0 && IsPictographic(runes[before]) && i + 1 < runes.Length && IsPictographic(runes[i + 1]);
    }

    private const int ZeroWidthNonJoiner = 0x200C;

    /// <summary>
    /// A zero-width non-joiner or joiner where a script's spelling needs it, and only there (so it cannot hide inside
    /// Latin letters): between two Arabic-script letters (Persian and Urdu write the non-joiner inside words), or
    /// after an Indic virama and before a letter (conjunct forms in Devanagari, Bengali, Tamil, Malayalam and others).
    /// </summary>
    private static bool IsScriptJoiner(Rune[] runes, int i)
    {
        if (runes[i].Value is not (ZeroWidthNonJoiner or ZeroWidthJoiner) || i == 0 || i + 1 >= runes.Length)
        {
            return false;
        }

        var (before, after) = (runes[i - 1], runes[i + 1]);
        return (IsArabicLetter(before) && IsArabicLetter(after)) || (IsVirama(before) && Rune.IsLetter(after));
    }

    private static bool IsArabicLetter(Rune r) => Rune.IsLetter(r) && r.Value is (>= 0x0600 and <= 0x06FF) or (>= 0x0750 and <= 0x077F)
        or (>= 0x08A0 and <= 0x08FF) or (>= 0xFB50 and <= 0xFDFF) or (>= 0xFE70 and <= 0xFEFF);

    /// <summary>The viramas (and the Myanmar and Khmer signs that act as one) of the Brahmic scripts of the BMP.</summary>
    private static bool IsVirama(Rune r) => r.Value is 0x094D or 0x09CD or 0x0A4D or 0x0ACD or 0x0B4D or 0x0BCD or 0x0C4D
        or 0x0CCD or 0x0D4D or 0x0DCA or 0x1039 or 0x17D2 or 0x1B44 or 0xA8C4 or 0xA9C0;

    /// <summary>Tag characters spelling a subdivision flag after U+1F3F4 (England, Scotland, Wales), ended by the cancel tag.</summary>
    private static bool IsFlagTag(Rune[] runes, int i)
    {
        if (runes[i].Value is < 0xE0020 or > 0xE007F)
        {
            return false;
        }

        var start = i;
        while (start > 0 && runes[start - 1].Value is >= 0xE0020 and <= 0xE007E)
        {
            start--;
        }

        var end = i;
        while (end < runes.Length && runes[end].Value is >= 0xE0020 and <= 0xE007E)
        {
            end++;
        }

        return start > 0 && runes[start - 1].Value == 0x1F3F4 && end < runes.Length && runes[end].Value == 0xE007F;
    }

    private static bool IsEmojiModifier(Rune r) => r.Value is >= 0x1F3FB and <= 0x1F3FF;

    /// <summary>Close to Unicode's Extended_Pictographic: the blocks emoji come from.</summary>
    private static bool IsPictographic(Rune r) => r.Value switch
    {
        0x00A9 or 0x00AE or 0x203C or 0x2049 or 0x2122 or 0x2139 or 0x24C2 or 0x3030 or 0x303D or 0x3297 or 0x3299 => true,
        >= 0x2194 and <= 0x21AA => true,
        >= 0x2300 and <= 0x23FF => true,
        >= 0x25A0 and <= 0x25FF => true,
        >= 0x2600 and <= 0x27BF => true,
        >= 0x2900 and <= 0x297F => true,
        >= 0x2B00 and <= 0x2BFF => true,
        >= 0x1F000 and <= 0x1FAFF => true,
        _ => false,
    };

    /// <summary>Letters and symbols that render as nothing.</summary>
    private static bool IsBlankLetter(Rune r) => r.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800 or 0x17B4 or 0x17B5;

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
