// `import samples <file.jsonl> [--name]` and `import dataset <file.jsonl> --format gsm8k|math|qa|humaneval --name X`:
// the same service as POST /api/imports/*. A malformed line rejects the whole file (exit 2) and nothing is stored.
// `import model <file-or-folder> [--tokenizer file] [--name X]`: the same service as POST /api/models/import
// (converts into the data directory and registers a Model row; see Services/ModelImports.cs).
using System.CommandLine;
using BonStudio.Training.Tasks;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.Cli;

public static class ImportCommand
{
    public static Command Create()
    {
        var samplesFile = new Argument<FileInfo>("file.jsonl") { Description = "Lines {prompt_id, prompt, response, answer, correct, score, [model], [temperature]}" };
        var samplesName = new Option<string?>("--name") { Description = "Name of the evaluation run (default: from the file name)" };
        var samples = new Command("samples", "Import samples generated elsewhere as an evaluation the inspector and curves treat like any other.") { samplesFile, samplesName };
        samples.SetAction((parse, ct) => RunAsync(parse, parse.GetValue(samplesFile)!, async (imports, reader, path) =>
        {
            var r = await imports.ImportSamplesAsync(reader, parse.GetValue(samplesName), path, ct);
            return $"evaluation {r.RunId}: {r.Prompts} prompts × n = {r.N} ({r.Samples} samples)";
        }, ct));

        var datasetFile = new Argument<FileInfo>("file.jsonl") { Description = "gsm8k {question, answer}; math {problem, solution, ...}; qa {question, answers}; humaneval {task_id, prompt, canonical_solution, test, entry_point}" };
        var format = new Option<string>("--format") { Description = "gsm8k, math, qa or humaneval", Required = true };
        format.AcceptOnlyFromAmong([.. DatasetImport.Formats]);
        var datasetName = new Option<string>("--name") { Description = "Name of the data set", Required = true };
        var dataset = new Command("dataset", "Import a data set (Dataset + Problems with content hashes) for bon-eval runs.") { datasetFile, format, datasetName };
        dataset.SetAction((parse, ct) => RunAsync(parse, parse.GetValue(datasetFile)!, async (imports, reader, path) =>
        {
            var r = await imports.ImportDatasetAsync(reader, parse.GetValue(format)!, parse.GetValue(datasetName)!, path, ct);
            return $"dataset {r.DatasetId}: '{r.Name}' ({r.Format}), {r.Problems} problems, sha256 {r.ContentHash}";
        }, ct));

        var modelPath = new Argument<string>("path") { Description = "llama2.c .bin, Hugging Face folder (config.json + *.safetensors) or BonStudio .safetensors" };
        var modelTokenizer = new Option<string?>("--tokenizer") { Description = "llama2.c tokenizer file (default: tokenizer.bin or tok{vocab}.bin beside the model)" };
        var modelName = new Option<string?>("--name") { Description = "Display name (default: the file or folder name)" };
        var model = new Command("model", "Import a model checkpoint (converted into the data directory) so every run kind can use it.") { modelPath, modelTokenizer, modelName };
        model.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            using var host = BonStudioCli.BuildCliHost(parse);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            try
            {
                var m = await host.Services.GetRequiredService<ModelImports>().ImportAsync(
                    new ImportModelRequest(parse.GetValue(modelPath), parse.GetValue(modelTokenizer), parse.GetValue(modelName)), restrictToAllowedRoots: false, ct);
                output.WriteLine($"model {m.Id}: '{m.Name}' ({m.Architecture}, {m.Parameters:N0} parameters, tokenizer {m.Tokenizer}) at {m.Path}");
                return 0;
            }
            catch (Exception e) when (ModelImports.IsBadInput(e))
            {
                error.WriteLine($"import model: {e.Message}; nothing was imported");
                return 2;
            }
        });

        return new Command("import", "Import samples, a data set or a model into the database.") { samples, dataset, model, CalibrationCommands.Import() };
    }

    private static async Task<int> RunAsync(ParseResult parse, FileInfo file, Func<EvaluationImports, TextReader, string, Task<string>> import, CancellationToken ct)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        if (!file.Exists) { error.WriteLine($"import: {file.FullName} does not exist"); return 2; }
        using var host = BonStudioCli.BuildCliHost(parse);
        await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
        try
        {
            using var reader = new StreamReader(file.FullName);
            output.WriteLine(await import(host.Services.GetRequiredService<EvaluationImports>(), reader, file.FullName));
            return 0;
        }
        catch (Exception e) when (e is JsonlFormatException or ArgumentException)
        {
            error.WriteLine($"import: {file.Name}: {e.Message}; nothing was imported");
            return 2;
        }
    }
}
