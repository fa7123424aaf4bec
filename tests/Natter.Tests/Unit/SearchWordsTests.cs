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
    [InlineData("日本語のテキスト", new[] { "日本語のテキスト" })]
    [InlineData("snake_case @bob #tag 👍👍", new[] { "snake", "case", "bob", "tag" })]
    [InlineData("  ...  ", new string[0])]
    public void A_word_is_a_run_of_letters_and_digits_without_case_or_marks(string text, string[] words)
    {
        Assert.Equal(words, SearchWords.Of(text));
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
