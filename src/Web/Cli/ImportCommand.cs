// `import samples <file.jsonl> [--name]` and `import dataset <file.jsonl> --format gsm8k|math|qa --name X`:
// the same service as POST /api/imports/*. A malformed line rejects the whole file (exit 2) and nothing is stored.
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

        var datasetFile = new Argument<FileInfo>("file.jsonl") { Description = "gsm8k {question, answer}; math {problem, solution, ...}; qa {question, answers}" };
        var format = new Option<string>("--format") { Description = "gsm8k, math or qa", Required = true };
        format.AcceptOnlyFromAmong([.. DatasetImport.Formats]);
        var datasetName = new Option<string>("--name") { Description = "Name of the data set", Required = true };
        var dataset = new Command("dataset", "Import a data set (Dataset + Problems with content hashes) for bon-eval runs.") { datasetFile, format, datasetName };
        dataset.SetAction((parse, ct) => RunAsync(parse, parse.GetValue(datasetFile)!, async (imports, reader, path) =>
        {
            var r = await imports.ImportDatasetAsync(reader, parse.GetValue(format)!, parse.GetValue(datasetName)!, path, ct);
            return $"dataset {r.DatasetId}: '{r.Name}' ({r.Format}), {r.Problems} problems, sha256 {r.ContentHash}";
        }, ct));

        return new Command("import", "Import samples or a data set from a JSONL file into the database.") { samples, dataset, CalibrationCommands.Import() };
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
