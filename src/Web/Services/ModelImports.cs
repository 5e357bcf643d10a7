// `import model` (CLI) and POST /api/models/import: registers a checkpoint made elsewhere (llama2.c .bin + tokenizer,
// Hugging Face LLaMA/GPT-2 folder, BonStudio .safetensors) as a Model row like a trained one. The files are converted
// into {data dir}/models/imported/<id-slug>/model.safetensors by Training's ModelImporter (why: see its header), so
// every run kind loads the import the way it loads trained models, and runs survive the source being moved.
// Paths from users are checked (exist, expected shape) and only ever opened as files; nothing reaches a shell.
// Over the API the path must also lie under one of ModelImportOptions.AllowedRoots (a web user should not make the
// server read arbitrary files); the command line may import from anywhere the user can read.
using System.Text.Json;
using System.Text.RegularExpressions;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Text;
using BonStudio.Web.Extensions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Services;

/// <summary>Settings of model imports (section "ModelImportOptions").</summary>
public sealed class ModelImportOptions
{
    /// <summary>Folders the REST API may import from; empty = only {data dir}/imports. The CLI is not restricted.</summary>
    public List<string> AllowedRoots { get; set; } = [];
}

/// <summary>What a client sends to import a model: a server-side path (file or folder), an optional tokenizer file
/// (llama2.c tokenizer.bin; default: found beside the model) and an optional display name.</summary>
public sealed record ImportModelRequest(string? Path, string? TokenizerPath = null, string? Name = null);

public sealed partial class ModelImports(IDbContextFactory<BonStudioDb> dbFactory, IOptions<BonStudioOptions> options, IOptions<ModelImportOptions> importOptions)
{
    public const string Source = "imported";

    public static string ModelsFolder(string dataDirectory) => Path.Combine(dataDirectory, "models", "imported");
    public static string TokenizersFolder(string dataDirectory) => Path.Combine(dataDirectory, "tokenizers");

    /// <summary>Folders the API accepts paths under (full paths).</summary>
    public IReadOnlyList<string> AllowedRoots => importOptions.Value.AllowedRoots.Count > 0
        ? importOptions.Value.AllowedRoots.Select(Path.GetFullPath).ToList()
        : [Path.Combine(options.Value.DataDirectoryFullPath, "imports")];

    /// <summary>Converts and registers the model. <paramref name="restrictToAllowedRoots"/>: true for API requests.
    /// Bad input throws ArgumentException, FileNotFoundException, InvalidDataException or NotSupportedException
    /// (<see cref="IsBadInput"/>) with a message naming the field and the problem.</summary>
    public async Task<ModelItem> ImportAsync(ImportModelRequest request, bool restrictToAllowedRoots, CancellationToken ct = default)
    {
        var path = CheckPath(request.Path, "path", restrictToAllowedRoots)!;
        var tokenizer = request.TokenizerPath is { Length: > 0 } ? CheckPath(request.TokenizerPath, "tokenizerPath", restrictToAllowedRoots) : null;
        var name = string.IsNullOrWhiteSpace(request.Name) ? System.IO.Path.GetFileName(path.TrimEnd(System.IO.Path.DirectorySeparatorChar)) : request.Name.Trim();
        if (name.Length > 300) throw new ArgumentException("name: at most 300 characters.");
        ModelImporter.CheckSourceShape(path, tokenizer);

        var dataDir = options.Value.DataDirectoryFullPath;
        var destination = System.IO.Path.Combine(ModelsFolder(dataDir), $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}-{Slug(name)}");
        Directory.CreateDirectory(ModelsFolder(dataDir));
        // libtorch work is synchronous: keep it off the request thread
        var imported = await Task.Run(() => ModelImporter.Import(path, tokenizer, destination, TokenizersFolder(dataDir)), ct);

        var model = new Model
        {
            Name = name, Architecture = imported.Architecture, Tokenizer = imported.Tokenizer, Path = imported.CheckpointPath,
            Step = 0, Parameters = imported.Parameters, SizeBytes = imported.SizeBytes, Source = Source, IsFinal = true,
            ConfigJson = JsonSerializer.Serialize(new { source = path, tokenizer_source = tokenizer, source_format = imported.SourceFormat, model_config = JsonDocument.Parse(imported.ModelConfigJson).RootElement }),
        };
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.Models.Add(model);
            await db.SaveChangesAsync(ct);
        }
        catch
        {
            try { Directory.Delete(destination, recursive: true); } catch (IOException) { }
            throw;
        }
        return new ModelItem(model.Id, model.Name, model.Architecture, model.Tokenizer, model.Path, model.Step, model.Parameters,
            model.SizeBytes, model.Source, model.IsFinal, null, RunService.Utc(model.CreatedAt));
    }

    /// <summary>Exceptions that mean "the request was wrong" (400 / exit 2), not a server fault.</summary>
    public static bool IsBadInput(Exception e) =>
        e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or NotSupportedException or JsonException;

    private string? CheckPath(string? value, string field, bool restrict)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{field}: required (a file or folder on the server).");
        if (value.Contains('\0')) throw new ArgumentException($"{field}: contains a NUL character.");
        string full;
        try { full = System.IO.Path.GetFullPath(value); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        { throw new ArgumentException($"{field}: '{value}' is not a valid path ({e.Message}).", e); }
        if (!File.Exists(full) && !Directory.Exists(full)) throw new FileNotFoundException($"{field}: {full} does not exist.", full);
        if (restrict)
        {
            // compare the real location: a symbolic link inside an allowed root must not lead out of it
            var real = RealPath(full);
            if (!AllowedRoots.Select(RealPath).Any(root => IsUnder(real, root)))
                throw new ArgumentException($"{field}: {full} is outside the folders the API may import from ({string.Join(", ", AllowedRoots)}; see ModelImportOptions:AllowedRoots).");
        }
        return full;
    }

    private static string RealPath(string path)
    {
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        var target = info.Exists && info.LinkTarget is not null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName : info.FullName;
        // resolve links in the parent chain too
        var parent = System.IO.Path.GetDirectoryName(target);
        return parent is null || parent == target ? target : System.IO.Path.Combine(RealPath(parent), System.IO.Path.GetFileName(target));
    }

    private static bool IsUnder(string path, string root)
    {
        var r = root.TrimEnd(System.IO.Path.DirectorySeparatorChar) + System.IO.Path.DirectorySeparatorChar;
        return path.StartsWith(r, StringComparison.Ordinal) || path == root.TrimEnd(System.IO.Path.DirectorySeparatorChar);
    }

    private static string Slug(string name)
    {
        var slug = SlugChars().Replace(name.ToLowerInvariant(), "-").Trim('-');
        return slug.Length == 0 ? "model" : slug[..Math.Min(slug.Length, 40)];
    }

    [GeneratedRegex("[^a-z0-9._]+")]
    private static partial Regex SlugChars();
}

public static class ModelImportExtensions
{
    /// <summary>Registers the import service and makes this data directory's stored tokenizers resolvable by every
    /// run in this process (web, worker or CLI).</summary>
    public static IServiceCollection AddBonStudioModelImports(this IServiceCollection services, string dataDirectoryFullPath)
    {
        services.AddOptions<ModelImportOptions>().BindConfiguration(nameof(ModelImportOptions));
        services.AddSingleton<ModelImports>();
        Llama2cTokenizerStore.AddFolder(ModelImports.TokenizersFolder(dataDirectoryFullPath));
        return services;
    }
}
