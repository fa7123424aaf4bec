using System.Globalization;
using System.Text;

namespace Natter.Server.Storage;

/// <summary>
/// What a word is for search (protocol v2 §2), decided once for both stores and for queries: the text is decomposed
/// (NFKD: "ﬁ" is "fi", "①" is "1", "Ü" is "U" and a combining diaeresis), combining marks are dropped, and a word
/// is a run of letters and decimal digits, lower-cased (invariant). Chinese, Japanese and Korean are written without
/// spaces between words and there is no dictionary here: inside a word, each run of their characters (Han, kana,
/// Bopomofo, Hangul syllables) becomes its overlapping pairs of characters, as many engines without a dictionary
/// index them ("東京都" is "東京" and "京都"), and a message's run also gives its last character alone, so every
/// character starts some word. A query's run gives its pairs only; each must start a word of the message, so a
/// query of one or two characters finds them anywhere in a run, and a longer one finds runs that hold all its pairs.
/// The stores index these words, never the raw text, so "uber" finds "Über" (precomposed or not) in SQLite and
/// MariaDB alike.
/// </summary>
public static class SearchWords
{
    /// <summary>The words of a text in order, repeats included (what a message is indexed by).</summary>
    public static List<string> Of(string text) => Of(text, query: false);

    /// <summary>The words of a text in order; a query's Chinese, Japanese or Korean run gives its pairs only.</summary>
    private static List<string> Of(string text, bool query)
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
                    Flush(word, words, query);
                    continue;
            }
        }

        Flush(word, words, query);
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
        var words = Of(q, query: true).Distinct(StringComparer.Ordinal).OrderByDescending(w => w.Length).ThenBy(w => w, StringComparer.Ordinal).ToList();
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

    private static void Flush(StringBuilder word, List<string> words, bool query)
    {
        if (word.Length > 0)
        {
            Split(word.ToString(), words, query);
            word.Clear();
        }
    }

    /// <summary>
    /// Adds a run of letters and digits: as one word, or, where it holds Chinese, Japanese or Korean characters,
    /// its other parts as words and each such run as its pairs of characters (see the class).
    /// </summary>
    private static void Split(string run, List<string> words, bool query)
    {
        var plain = 0;                                  // where the current run of other letters began
        List<(int Start, int End)>? units = null;       // the current run of CJK characters (a Hangul syllable is one)
        var previous = Cjk.None;
        for (var i = 0; i < run.Length;)
        {
            var rune = Rune.GetRuneAt(run, i);
            var kind = KindOf(rune);
            var end = i + rune.Utf16SequenceLength;
            if (kind == Cjk.None)
            {
                if (units is { Count: > 0 })
                {
                    AddPairs(run, units, words, query);
                    units.Clear();
                    plain = i;
                }
            }
            else
            {
                if (units is null or { Count: 0 } && i > plain)
                {
                    words.Add(run[plain..i]);
                }

                units ??= [];
                // NFKD has taken Hangul syllables apart: a vowel after a leading consonant, or a trailing consonant
                // after a vowel, belongs to the syllable before it.
                var joins = units.Count > 0
                    && ((kind == Cjk.HangulVowel && previous == Cjk.HangulLead)
                        || (kind == Cjk.HangulTrail && previous is Cjk.HangulVowel or Cjk.HangulTrail));
                if (joins)
                {
                    units[^1] = (units[^1].Start, end);
                }
                else
                {
                    units.Add((i, end));
                }
            }

            previous = kind;
            i = end;
        }

        if (units is { Count: > 0 })
        {
            AddPairs(run, units, words, query);
        }
        else if (plain == 0)
        {
            words.Add(run);
        }
        else if (plain < run.Length)
        {
            words.Add(run[plain..]);
        }
    }

    private static void AddPairs(string run, List<(int Start, int End)> units, List<string> words, bool query)
    {
        if (units.Count == 1)
        {
            words.Add(run[units[0].Start..units[0].End]);
            return;
        }

        for (var u = 0; u + 1 < units.Count; u++)
        {
            words.Add(run[units[u].Start..units[u + 1].End]);
        }

        if (!query)
        {
            words.Add(run[units[^1].Start..units[^1].End]);
        }
    }

    private enum Cjk { None, Character, HangulLead, HangulVowel, HangulTrail }

    /// <summary>
    /// Han ideographs, kana and Bopomofo (each character on its own), and the conjoining Hangul letters NFKD turns
    /// syllables into. Letters only reach here (symbols and punctuation already separate words).
    /// </summary>
    private static Cjk KindOf(Rune rune) => rune.Value switch
    {
        < 0x1100 => Cjk.None,
        <= 0x115F => Cjk.HangulLead,
        <= 0x11A7 => Cjk.HangulVowel,
        <= 0x11FF => Cjk.HangulTrail,
        >= 0x3005 and <= 0x3006 => Cjk.Character,         // 々 〆
        >= 0x3031 and <= 0x3035 => Cjk.Character,         // kana repeat marks
        >= 0x303B and <= 0x303C => Cjk.Character,
        >= 0x3040 and <= 0x30FF => Cjk.Character,         // hiragana, katakana (ー included)
        >= 0x3100 and <= 0x312F => Cjk.Character,         // Bopomofo
        >= 0x31A0 and <= 0x31BF => Cjk.Character,
        >= 0x31F0 and <= 0x31FF => Cjk.Character,         // katakana extensions
        >= 0x3400 and <= 0x4DBF => Cjk.Character,         // ideographs, extension A
        >= 0x4E00 and <= 0x9FFF => Cjk.Character,         // ideographs
        >= 0xA960 and <= 0xA97F => Cjk.HangulLead,
        >= 0xD7B0 and <= 0xD7C6 => Cjk.HangulVowel,
        >= 0xD7CB and <= 0xD7FB => Cjk.HangulTrail,
        >= 0xF900 and <= 0xFAFF => Cjk.Character,         // compatibility ideographs NFKD keeps
        >= 0x1B000 and <= 0x1B16F => Cjk.Character,       // kana supplement and extensions
        >= 0x20000 and <= 0x3FFFF => Cjk.Character,       // ideographs, extensions B and later
        _ => Cjk.None,
    };
}
