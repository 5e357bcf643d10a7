// `metrics bon <samples.jsonl> [--json]`: exact pass@k, BoN@k and maj@k of a samples file for every k (methods.md §1)
// via BonMetrics. Touches no database and no server: the file in, one JSON object out.
using System.CommandLine;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;

namespace BonStudio.Web.Cli;

public static class MetricsCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("samples.jsonl") { Description = "Lines {prompt_id, prompt, response, answer, correct, score, [model], [temperature]}; every prompt has the same n" };
        var json = new Option<bool>("--json") { Description = "Print {\"n_prompts\", \"n\", \"k\", \"pass_at_k\", \"bon_at_k\", \"maj_at_k\"} (dataset means aligned to k)" };
        var bon = new Command("bon", "Best-of-N metrics of a samples file for every k = 1..n, computed exactly; nothing is stored.") { file, json };
        bon.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            if (!path.Exists) { error.WriteLine($"metrics bon: {path.FullName} does not exist"); return 2; }
            DatasetBonMetrics metrics;
            try
            {
                using var reader = new StreamReader(path.FullName);
                metrics = BonMetricsReport.DatasetFromJsonl(reader);
            }
            catch (Exception e) when (e is JsonlFormatException or ArgumentException)
            {
                error.WriteLine($"metrics bon: {path.Name}: {e.Message}");
                return 2;
            }
            if (parse.GetValue(json)) { output.WriteLine(BonMetricsReport.From(metrics).ToJson()); return 0; }

            output.WriteLine($"{path.Name}: {metrics.NPrompts} prompts, n = {metrics.N}; means over prompts ± 95% interval half-width");
            output.WriteLine($"{"k",5} {"pass@k",18} {"BoN@k",18} {"maj@k",18}");
            foreach (int k in Services.EvaluationService.SummaryKs(metrics.N))
                output.WriteLine($"{k,5} {Format(metrics.PassAtK[k - 1]),18} {Format(metrics.BonAtK![k - 1]),18} {Format(metrics.MajAtK![k - 1]),18}");
            return 0;
        });
        return new Command("metrics", "Compute metrics of result files (no database, no server).") { bon, CalibrationCommands.Metrics() };
    }

    private static string Format(MeanInterval m) => m.HalfWidth is double h ? $"{m.Mean:F4} ± {h:F4}" : $"{m.Mean:F4}";
}
