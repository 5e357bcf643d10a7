// Content-addressed storage of llama2.c tokenizers for imported models. A checkpoint can only name its tokenizer
// (CheckpointMetadata.Tokenizer, resolved by TokenizerRegistry); a llama2.c tokenizer is a file, so an import copies
// it to <data dir>/tokenizers/<sha256>.bin and names it "llama2c-sha256:<sha256>". The name stays short (it is
// stored in Model rows), does not depend on where the data directory lives, and can never point at other content:
// the bytes are re-hashed when loaded.
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace BonStudio.Training.Text;

public static class Llama2cTokenizerStore
{
    /// <summary>Prefix of the registry names of stored llama2.c tokenizers.</summary>
    public const string Prefix = "llama2c-sha256:";

    private static readonly List<string> Folders = [];
    private static readonly ConcurrentDictionary<string, Llama2cTokenizer> Cache = new(StringComparer.Ordinal);

    /// <summary>Adds a folder where stored tokenizers are looked up (each data directory's "tokenizers" folder).</summary>
    public static void AddFolder(string folder)
    {
        var full = Path.GetFullPath(folder);
        lock (Folders) if (!Folders.Contains(full)) Folders.Add(full);
    }

    /// <summary>Writes <paramref name="tokenizer"/> into <paramref name="folder"/> (if not there yet), registers the folder,
    /// and returns the tokenizer's registry name.</summary>
    public static string Save(Llama2cTokenizer tokenizer, string folder)
    {
        var bytes = tokenizer.ToFileBytes();
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, hash + ".bin");
        if (!File.Exists(path))
        {
            var temp = path + $".{Guid.NewGuid():N}.tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        AddFolder(folder);
        return Prefix + hash;
    }

    /// <summary>Loads the tokenizer named <paramref name="name"/> from the registered folders.</summary>
    public static Llama2cTokenizer Resolve(string name)
    {
        if (Cache.TryGetValue(name, out var cached)) return cached;
        var hash = name.StartsWith(Prefix, StringComparison.Ordinal) ? name[Prefix.Length..] : "";
        if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            throw new ArgumentException($"tokenizer '{name}': expected {Prefix} followed by 64 hex digits.");
        string[] folders;
        lock (Folders) folders = [.. Folders];
        foreach (var folder in folders)
        {
            var path = Path.Combine(folder, hash + ".bin");
            if (!File.Exists(path)) continue;
            var bytes = File.ReadAllBytes(path);
            if (!Convert.ToHexStringLower(SHA256.HashData(bytes)).Equals(hash, StringComparison.Ordinal))
                throw new InvalidDataException($"tokenizer file {path} does not match its name (modified after import?).");
            return Cache.GetOrAdd(name, _ => Llama2cTokenizer.FromFileBytes(bytes, name, path));
        }
        throw new FileNotFoundException(
            $"tokenizer '{name}' is not in any tokenizers folder ({(folders.Length == 0 ? "none registered" : string.Join(", ", folders))}); was the model imported into another data directory?");
    }
}
