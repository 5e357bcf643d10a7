using BonStudio.Training.Models;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Models;

[Collection("Torch")]
public class GptActivationTests
{
    [Fact]
    public void The_tanh_approximation_of_gelu_is_a_different_function_with_the_same_weights()
    {
        // Arrange: one set of weights in an exact-GELU and a tanh-GELU model.
        var config = new GptConfig { VocabSize = 20, ContextLength = 8, Layers = 1, Heads = 2, EmbeddingDim = 16 };
        manual_seed(3);
        using var exact = new Gpt(config);
        using var tanh = new Gpt(config with { Activation = "gelu_tanh" });
        using (no_grad())
            foreach (var p in exact.parameters()) p.normal_(); // unit-scale weights: MLP inputs of order 1, where the two GELUs differ
        tanh.load_state_dict(exact.state_dict());
        exact.eval(); tanh.eval();
        using var _ = no_grad();
        var tokens = tensor(new long[] { 1, 5, 7, 2 }).unsqueeze(0);
        var positions = arange(4, ScalarType.Int64).unsqueeze(0);

        // Act
        var a = exact.Forward(tokens, positions);
        var b = tanh.Forward(tokens, positions);

        // Assert: close (an approximation) but not equal, so importing GPT-2 must pick the right one.
        double gap = (a - b).abs().max().item<float>();
        Assert.InRange(gap, 1e-5, 1.0);
        Assert.Equal("gelu", new GptConfig().Activation);
        Assert.Contains("Activation", Assert.Throws<ArgumentException>(() => (config with { Activation = "relu" }).Validate()).Message);
    }
}
