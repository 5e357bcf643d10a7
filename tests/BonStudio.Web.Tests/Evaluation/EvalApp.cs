// Test host for the evaluation tests: the shared BonStudioAppFactory (real app on Kestrel, temporary data directory,
// real SQLite and Hangfire) without the seeded example, plus a helper that writes a tiny random GPT checkpoint.
using BonStudio.Data.Entities;
using BonStudio.Training.Models;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;

namespace BonStudio.Web.Tests.Evaluation;

public sealed class EvalApp(Dictionary<string, string>? settings = null)
    : BonStudioAppFactory(new Dictionary<string, string>(settings ?? []) { ["BonStudioOptions:SeedExamples"] = "false" })
{
    /// <summary>Writes a tiny random GPT (char tokenizer, context long enough for MiniMath) and registers it as a Model.</summary>
    public int AddTinyModel()
    {
        var path = Path.Combine(DataDirectory, "tiny-gpt.safetensors");
        var config = new GptConfig { VocabSize = CharTokenizer.Instance.VocabSize, ContextLength = MiniMath.MaxChars + 2, Layers = 1, Heads = 2, EmbeddingDim = 16 };
        TorchSharp.torch.manual_seed(5);
        using (var gpt = new Gpt(config))
            Checkpoint.Save(path, gpt, new CheckpointMetadata(Gpt.Architecture, config.ToJson(), CharTokenizer.Instance.Name, 0));
        using var db = Db();
        var model = new Model { Name = "tiny random gpt", Architecture = Gpt.Architecture, Tokenizer = CharTokenizer.Instance.Name, Path = path, Source = "imported", IsFinal = true };
        db.Models.Add(model);
        db.SaveChanges();
        return model.Id;
    }
}
