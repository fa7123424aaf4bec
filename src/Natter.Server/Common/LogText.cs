using System.Globalization;

namespace Natter.Server.Common;

/// <summary>Untrusted text (usernames as typed, headers) made safe for a log line.</summary>
public static class LogText
{
    /// <summary>Longest piece of untrusted text a log line carries.</summary>
    public const int MaxLength = 200;

    /// <summary>
    /// Escapes control characters, line and paragraph separators and invisible format characters (bidi overrides,
    /// zero-width) as \uXXXX, so the text can neither start a forged line nor hide or reorder what follows; cuts it
    /// to <see cref="MaxLength"/> characters.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var cut = text.Length > MaxLength;
        var span = cut ? text.AsSpan(0, MaxLength) : text.AsSpan();
        var clean = true;
        foreach (var c in span)
        {
            if (NeedsEscape(c))
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return cut ? string.Concat(span, "…") : text;
        }

        var sb = new System.Text.StringBuilder(span.Length + 16);
        foreach (var c in span)
        {
            if (NeedsEscape(c))
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        if (cut)
        {
            sb.Append('…');
        }

        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
