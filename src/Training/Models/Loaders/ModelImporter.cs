// Import of a model made elsewhere (llama2.c .bin + tokenizer, Hugging Face LLaMA or GPT-2 folder, or a BonStudio
// checkpoint) into a data directory: the model is loaded with ModelLoader (which checks sizes and shapes against the
// header/config), then written as an ordinary BonStudio checkpoint (model.safetensors with architecture, model
// config and tokenizer name in its metadata). Why convert instead of pointing at the source:
//  - every run kind loads models one way (Checkpoint.LoadCausalLM + TokenizerRegistry), so an import works wherever
//    a trained model does, and checkpoints derived from it (calibration-sft, ...) name the same tokenizer;
//  - runs keep working (and stay reproducible) when the source is moved, edited or deleted;
//  - a broken or mismatched file is refused once, at import, instead of failing each run.
// A llama2.c tokenizer is stored content-addressed in the data directory's tokenizers folder (Llama2cTokenizerStore).
using BonStudio.Training.Text;
using static TorchSharp.torch;

namespace BonStudio.Training.Models.Loaders;

/// <summary>What an import wrote. <paramref name="SourceFormat"/>: "llama2c", "hf-llama", "hf-gpt2", or the
/// architecture of an imported BonStudio checkpoint.</summary>
public sealed record ImportedModel(string CheckpointPath, string Architecture, string Tokenizer, long Parameters,
    string SourceFormat, string ModelConfigJson, long SizeBytes);

public static class ModelImporter
{
    /// <summary>
    /// Converts the model at <paramref name="source"/> (a llama2.c .bin, a Hugging Face folder or a BonStudio
    /// .safetensors checkpoint) into <paramref name="destinationFolder"/>/model.safetensors. The folder must not exist
    /// yet; it is created only when the import succeeds (written under a temporary name, then moved).
    /// <paramref name="tokenizersFolder"/> receives a llama2.c tokenizer, if the model uses one.
    /// </summary>
    public static ImportedModel Import(string source, string? tokenizerPath, string destinationFolder, string tokenizersFolder)
    {
        CheckSourceShape(source, tokenizerPath);
        if (Directory.Exists(destinationFolder) || File.Exists(destinationFolder))
            throw new IOException($"import destination {destinationFolder} already exists.");

        using var loaded = ModelLoader.Load(source, tokenizerPath, CPU);
        var tokenizerName = loaded.Tokenizer switch
        {
            Llama2cTokenizer llama => Llama2cTokenizerStore.Save(llama, tokenizersFolder),
            var other => ResolvableName(other),
        };
        var (module, architecture, configJson) = loaded.Model switch
        {
            Llama llama => ((nn.Module)llama, Llama.Architecture, llama.Config.ToJson()),
            Gpt gpt => (gpt, Gpt.Architecture, gpt.Config.ToJson()),
            var m => throw new NotSupportedException($"{source}: {m.GetType().Name} models cannot be stored as BonStudio checkpoints."),
        };
        long parameters = module.parameters().DistinctBy(p => p.Handle).Sum(p => p.numel());

        var temp = destinationFolder.TrimEnd(Path.DirectorySeparatorChar) + $".{Guid.NewGuid():N}.tmp";
        Directory.CreateDirectory(temp);
        try
        {
            Checkpoint.Save(Path.Combine(temp, "model.safetensors"), module, new CheckpointMetadata(architecture, configJson, tokenizerName, Step: 0));
            Directory.Move(temp, destinationFolder);
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { }
            throw;
        }
        var checkpoint = Path.Combine(destinationFolder, "model.safetensors");
        return new ImportedModel(checkpoint, architecture, tokenizerName, parameters, loaded.Format, configJson, new FileInfo(checkpoint).Length);
    }

    /// <summary>Refuses anything that is not a file or folder of an importable shape before any of it is read.</summary>
    public static void CheckSourceShape(string source, string? tokenizerPath)
    {
        if (string.IsNullOrWhiteSpace(source)) throw new ArgumentException("path: give the model file or folder to import.");
        if (source.Contains('\0') || tokenizerPath?.Contains('\0') == true) throw new ArgumentException("path: contains a NUL character.");
        if (Directory.Exists(source))
        {
            if (!File.Exists(Path.Combine(source, "config.json")))
                throw new FileNotFoundException($"path: folder {source} has no config.json (expected a Hugging Face model folder).");
            if (Directory.GetFiles(source, "*.safetensors").Length == 0)
                throw new FileNotFoundException($"path: folder {source} has no *.safetensors file (PyTorch .bin weights are not read; convert them to safetensors).");
        }
        else if (File.Exists(source))
        {
            var ext = Path.GetExtension(source).ToLowerInvariant();
            if (ext is not (".bin" or ".safetensors"))
                throw new ArgumentException($"path: {source} is neither a llama2.c .bin checkpoint nor a .safetensors checkpoint (or a Hugging Face folder).");
        }
        else throw new FileNotFoundException($"path: {source} does not exist.", source);
        if (tokenizerPath is not null && !File.Exists(tokenizerPath))
            throw new FileNotFoundException($"tokenizer: {tokenizerPath} is not a file.", tokenizerPath);
    }

    private static string ResolvableName(ITokenizer tokenizer)
    {
        try { TokenizerRegistry.Resolve(tokenizer.Name); }
        catch (ArgumentException e) { throw new NotSupportedException($"tokenizer '{tokenizer.Name}' cannot be named in a checkpoint: {e.Message}", e); }
        return tokenizer.Name;
    }
}
