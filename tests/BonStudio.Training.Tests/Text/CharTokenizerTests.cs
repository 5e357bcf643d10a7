using BonStudio.Training.Text;

namespace BonStudio.Training.Tests.Text;

public class CharTokenizerTests
{
    [Fact]
    public void Encode_then_decode_returns_the_same_text()
    {
        var tok = CharTokenizer.Instance;
        const string text = "Ann has 17 apples, buys 25.\nHow many? 17+25=42 #### 42 ~{}|";
        var ids = tok.Encode(text);
        Assert.Equal(text.Length, ids.Length);
        Assert.All(ids, id => Assert.InRange(id, 3, tok.VocabSize - 1));
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void Vocabulary_ids_are_fixed()
    {
        var tok = CharTokenizer.Instance;
        Assert.Equal("char:ascii", tok.Name);
        Assert.Equal(99, tok.VocabSize);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.Equal([3, 4, 4 + ('0' - ' '), 4 + ('~' - ' ')], tok.Encode("\n 0~"));
    }

    [Fact]
    public void Special_tokens_decode_to_nothing()
    {
        var tok = CharTokenizer.Instance;
        Assert.Equal("ab", tok.Decode([1, .. tok.Encode("a"), 0, .. tok.Encode("b"), 2]));
    }

    [Fact]
    public void Unknown_character_is_refused_with_its_index()
    {
        var ex = Assert.Throws<ArgumentException>(() => CharTokenizer.Instance.Encode("12é4"));
        Assert.Contains("'é'", ex.Message);
        Assert.Contains("index 2", ex.Message);
        var tab = Assert.Throws<ArgumentException>(() => CharTokenizer.Instance.Encode("a\tb"));
        Assert.Contains("U+0009", tab.Message);
    }

    [Fact]
    public void Out_of_range_id_is_refused_on_decode()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => CharTokenizer.Instance.Decode([5, 99]));
        Assert.Contains("token id 99 at index 1", ex.Message);
    }

    [Fact]
    public void Registry_resolves_the_name_saved_in_checkpoints()
    {
        Assert.Same(CharTokenizer.Instance, TokenizerRegistry.Resolve("char:ascii"));
        Assert.Throws<ArgumentException>(() => TokenizerRegistry.Resolve("nope"));
    }
}
