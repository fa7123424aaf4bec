using System.Globalization;
using System.Text;

namespace Natter.TestSupport;

/// <summary>
/// The word function the stores indexed messages with before Chinese, Japanese and Korean runs were split into pairs
/// (kept here to write a database as those servers left it, for the migration that re-indexes such messages).
/// </summary>
public static class SearchWordsBeforePairs
{
    /// <summary>The words a message was indexed by before the pairs rule: runs of letters and digits (NFKD, marks dropped, lower case), a Chinese or Japanese run one word.</summary>
    public static string Joined(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in text.Normalize(NormalizationForm.FormKD).EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            {
                continue;
            }

            if (category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber)
            {
                word.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            words.Add(word.ToString());
        }

        return string.Join(' ', words.Distinct(StringComparer.Ordinal));
    }
}
