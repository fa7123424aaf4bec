using Natter.Server.Search;
using Natter.Server.Storage;

namespace Natter.Tests.Unit;

public sealed class SearchWordsTests
{
    [Theory]
    [InlineData("Über uber U\u0308BER", new[] { "uber", "uber", "uber" })]
    [InlineData("Hello, world! it's 2026-11-27", new[] { "hello", "world", "it", "s", "2026", "11", "27" })]
    [InlineData("ﬁle ① Ｆｕｌｌ", new[] { "file", "1", "full" })]
    [InlineData("naïve café São Paulo", new[] { "naive", "cafe", "sao", "paulo" })]
    [InlineData("snake_case @bob #tag 👍👍", new[] { "snake", "case", "bob", "tag" })]
    [InlineData("  ...  ", new string[0])]
    public void A_word_is_a_run_of_letters_and_digits_without_case_or_marks(string text, string[] words)
    {
        Assert.Equal(words, SearchWords.Of(text));
    }

    [Theory]
    [InlineData("日本語のテキスト", new[] { "日本", "本語", "語の", "のテ", "テキ", "キス", "スト", "ト" })]
    [InlineData("iPhone用の充電器 3月", new[] { "iphone", "用の", "の充", "充電", "電器", "器", "3", "月" })]
    [InlineData("我爱你。好", new[] { "我爱", "爱你", "你", "好" })]
    [InlineData("ｶﾀｶﾅ", new[] { "カタ", "タカ", "カナ", "ナ" })]
    [InlineData("𠀋𠀌x", new[] { "𠀋𠀌", "𠀌", "x" })]
    public void A_run_of_chinese_or_japanese_characters_is_its_pairs_and_its_last_character(string text, string[] words)
    {
        Assert.Equal(words, SearchWords.Of(text));
    }

    [Fact]
    public void Korean_syllables_are_paired_whole_although_the_words_hold_them_decomposed()
    {
        static string D(string s) => s.Normalize(System.Text.NormalizationForm.FormKD);
        Assert.Equal([D("서울"), D("울에"), D("에서"), D("서"), D("만나"), D("나요"), D("요")], SearchWords.Of("서울에서 만나요"));
        // Consonants on their own (ㅋㅋ, compatibility letters) are one unit each.
        Assert.Equal([D("ㅋ") + D("ㅋ"), D("ㅋ")], SearchWords.Of("ㅋㅋ"));
        Assert.Equal([D("만나")], SearchWords.Query("만나"));
    }

    [Fact]
    public void A_query_run_is_its_pairs_only_and_one_character_is_itself()
    {
        Assert.Equal(["京都", "東京"], SearchWords.Query("東京都"));
        Assert.Equal(["東"], SearchWords.Query("東"));
        Assert.Equal(["tokyo", "東京"], SearchWords.Query("東京 Tokyo 東"));
    }

    [Fact]
    public void A_query_keeps_each_word_once_and_drops_words_another_word_starts_with()
    {
        Assert.Equal(["hello", "world"], SearchWords.Query("hel HELLO world wo hello"));
        Assert.Empty(SearchWords.Query("?! -- ..."));
    }

    [Fact]
    public void A_long_word_is_cut_without_splitting_a_surrogate_pair()
    {
        Assert.Equal("ab", SearchWords.Truncate("ab\U0001D400", 3));
        Assert.Equal("abc", SearchWords.Truncate("abcd", 3));
    }

    [Theory]
    [InlineData("s1", 1L)]
    [InlineData("s9223372036854775807", long.MaxValue)]
    [InlineData("1", null)]
    [InlineData("s", null)]
    [InlineData("s0", null)]
    [InlineData("s-1", null)]
    [InlineData("s1x", null)]
    [InlineData("s99999999999999999999", null)]
    public void A_cursor_is_given_back_as_it_was_given(string cursor, long? position)
    {
        Assert.Equal(position, SearchCursor.Parse(cursor));
        if (position is { } p)
        {
            Assert.Equal(cursor, SearchCursor.Format(p));
        }
    }
}
