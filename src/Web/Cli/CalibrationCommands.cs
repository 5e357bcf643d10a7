// `metrics calibration <file.jsonl> [--bins 15] [--binning width|mass] [--json]` (no database, no server: the report of
// CalibrationMetrics, exactly CalibrationReport.ToJson() with --json) and `import calibration <file.jsonl> [--name]`
// (the same service as POST /api/imports/calibration: a malformed line rejects the file, exit 2, nothing stored).
using System.CommandLine;
using BonStudio.Data;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Cli;

public static class CalibrationCommands
{
    /// <summary>The `calibration` verb under `metrics`.</summary>
    public static Command Metrics()
    {
        var file = new Argument<FileInfo>("file.jsonl") { Description = "Lines {confidence, correct, [model], [source], [question_id]} of one model and one source" };
        var bins = new Option<int>("--bins") { Description = "Number of bins (default 15)", DefaultValueFactory = _ => 15 };
        var binning = new Option<string>("--binning") { Description = "width (equal-width bins, [lo, hi) with the last closed) or mass (near-equal counts)", DefaultValueFactory = _ => "width" };
        binning.AcceptOnlyFromAmong("width", "mass");
        var json = new Option<bool>("--json") { Description = "Print {\"n\", \"accuracy\", \"ece\", \"mce\", \"brier\", \"auroc\", \"bins\": [{\"lo\", \"hi\", \"count\", \"confidence\", \"accuracy\"}]}" };
        var command = new Command("calibration", "Calibration metrics (ECE, MCE, Brier, AUROC, accuracy, reliability bins) of a JSONL file; nothing is stored.") { file, bins, binning, json };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            int binCount = parse.GetValue(bins);
            var kind = parse.GetValue(binning) == "mass" ? Binning.Mass : Binning.Width;
            if (binCount is < 1 or > 1000) { error.WriteLine($"metrics calibration: --bins must be in 1..1000, got {binCount}"); return 2; }
            if (!path.Exists) { error.WriteLine($"metrics calibration: {path.FullName} does not exist"); return 2; }
            CalibrationReport report;
            try
            {
                using var reader = new StreamReader(path.FullName);
                report = CalibrationReport.FromJsonl(reader, binCount, kind);
            }
            catch (Exception e) when (e is JsonlFormatException or ArgumentException)
            {
                error.WriteLine($"metrics calibration: {path.Name}: {e.Message}");
                return 2;
            }
            if (parse.GetValue(json)) { output.WriteLine(report.ToJson()); return 0; }

            string estimator = CalibrationMetrics.DescribeBinning(binCount, kind);
            output.WriteLine($"{path.Name}: n = {report.N}");
            output.WriteLine($"accuracy {report.Accuracy:F4}");
            output.WriteLine($"ECE ({estimator}) {report.Ece:F4}");
            output.WriteLine($"MCE ({estimator}) {report.Mce:F4}");
            output.WriteLine($"Brier {report.Brier:F4}");
            output.WriteLine($"AUROC {(report.Auroc is double a ? a.ToString("F4") : "undefined (all correct or all wrong)")}");
            output.WriteLine($"{"bin",12} {"count",7} {"confidence",11} {"accuracy",9}");
            foreach (var b in report.Bins)
                output.WriteLine($"{$"[{b.Lo:F3}, {b.Hi:F3}]",12} {b.Count,7} {(b.Confidence is double c ? c.ToString("F4") : "-"),11} {(b.Accuracy is double acc ? acc.ToString("F4") : "-"),9}");
            return 0;
        });
        return command;
    }

    /// <summary>The `calibration` verb under `import`.</summary>
    public static Command Import()
    {
        var file = new Argument<FileInfo>("file.jsonl") { Description = "Lines {confidence, correct, [model], [source], [question_id]}; each source becomes a curve" };
        var name = new Option<string?>("--name") { Description = "Name of the run (default: from the file name)" };
        var command = new Command("calibration", "Import calibration pairs measured elsewhere as a calibration-eval run (marked imported) for the Calibration page.") { file, name };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            if (!path.Exists) { error.WriteLine($"import: {path.FullName} does not exist"); return 2; }
            using var host = BonStudioCli.BuildCliHost(parse);
            long limit = host.Services.GetRequiredService<IOptions<EvaluationOptions>>().Value.MaxUploadBytes;
            if (path.Length > limit) { error.WriteLine($"import: {path.Name} is {path.Length} bytes, over the {limit}-byte limit; nothing was imported"); return 2; }
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            try
            {
                using var reader = new StreamReader(path.FullName);
                var r = await new CalibrationStore(host.Services.GetRequiredService<IDbContextFactory<BonStudioDb>>())
                    .ImportAsync(reader, parse.GetValue(name), path.FullName, ct);
                output.WriteLine($"run {r.RunId}: '{r.Name}', {r.Pairs} pairs ({string.Join(", ", r.PairsBySource.Select(kv => $"{kv.Key} {kv.Value}"))})");
                return 0;
            }
            catch (Exception e) when (e is JsonlFormatException or ArgumentException)
            {
                error.WriteLine($"import: {path.Name}: {e.Message}; nothing was imported");
                return 2;
            }
        });
        return command;
    }
}
