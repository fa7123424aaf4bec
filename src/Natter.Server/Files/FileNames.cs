using System.Globalization;
using System.Text;

namespace Natter.Server.Files;

/// <summary>
/// The display name of an upload. It is only ever shown and offered as a download name (bytes are stored under the
/// file's random id), but it is still made harmless: the last path segment only (so "../../x" is "x"), no control
/// or format characters (which would let a name spoof its extension with a right-to-left override), at most
/// <see cref="MaxCodePoints"/> code points, "file" when nothing is left.
/// </summary>
public static class FileNames
{
    public const int MaxCodePoints = 255;

    public static string Clean(string? raw)
    {
        var name = raw ?? "";
        var cut = name.LastIndexOfAny(['/', '\\']);
        if (cut >= 0)
        {
            name = name[(cut + 1)..];
        }

        var sb = new StringBuilder(Math.Min(name.Length, MaxCodePoints * 2));
        var count = 0;
        foreach (var rune in name.EnumerateRunes())
        {
            if (rune == Rune.ReplacementChar && !name.Contains('\uFFFD', StringComparison.Ordinal))
            {
                continue; // a lone surrogate
            }

            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                    or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned:
                    continue;
            }

            if (count++ == MaxCodePoints)
            {
                break;
            }

            sb.Append(rune.ToString());
        }

        var clean = sb.ToString().Trim();
        return clean.Length == 0 || clean.All(c => c == '.') ? "file" : clean;
    }
}
