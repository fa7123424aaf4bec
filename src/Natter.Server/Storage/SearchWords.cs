using System.Globalization;
using System.Text;

namespace Natter.Server.Storage;

/// <summary>
/// What a word is for search (protocol v2 §2), decided once for both stores and for queries: the text is decomposed
/// (NFKD: "ﬁ" is "fi", "①" is "1", "Ü" is "U" and a combining diaeresis), combining marks are dropped, and a word
/// is a run of letters and decimal digits, lower-cased (invariant). The stores index these words, never the raw
/// text, so "uber" finds "Über" (precomposed or not) in SQLite and MariaDB alike.
/// </summary>
public static class SearchWords
{
    /// <summary>The words of a text in order, repeats included.</summary>
    public static List<string> Of(string text)
    {
        var words = new List<string>();
        if (string.IsNullOrEmpty(text))
        {
            return words;
        }

        var word = new StringBuilder();
        foreach (var rune in text.Normalize(NormalizationForm.FormKD).EnumerateRunes())
        {
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark:
                    // A mark belongs to the letter before it: dropped, and the word goes on.
                    continue;
                case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber:
                    word.Append(Rune.ToLowerInvariant(rune).ToString());
                    continue;
                default:
                    Flush(word, words);
                    continue;
            }
        }

        Flush(word, words);
        return words;
    }

    /// <summary>The distinct words of a text joined by single spaces: what the SQLite full-text index is given.</summary>
    public static string Joined(string? text) => text is null ? "" : string.Join(' ', Of(text).Distinct(StringComparer.Ordinal));

    /// <summary>
    /// The words of a query that matter: distinct, and without a word that starts another one (every message word
    /// starting with "hello" also starts with "hel", so "hel hello" asks no more than "hello"). Longest first.
    /// </summary>
    public static IReadOnlyList<string> Query(string q)
    {
        var words = Of(q).Distinct(StringComparer.Ordinal).OrderByDescending(w => w.Length).ThenBy(w => w, StringComparer.Ordinal).ToList();
        var kept = new List<string>(words.Count);
        foreach (var w in words)
        {
            if (!kept.Exists(k => k.StartsWith(w, StringComparison.Ordinal)))
            {
                kept.Add(w);
            }
        }

        return kept;
    }

    /// <summary>A word cut to at most max UTF-16 units without splitting a surrogate pair.</summary>
    public static string Truncate(string word, int max) =>
        word.Length <= max ? word : word[..(char.IsHighSurrogate(word[max - 1]) ? max - 1 : max)];

    private static void Flush(StringBuilder word, List<string> words)
    {
        if (word.Length > 0)
        {
            words.Add(word.ToString());
            word.Clear();
        }
    }
}
