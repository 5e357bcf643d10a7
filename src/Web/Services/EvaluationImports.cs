// Bring your own samples and data (issue #3 item 7). A whole file is parsed and validated first (a malformed line
// rejects it with its line number), then written in ONE transaction: nothing is ever half-imported.
//   samples: JSONL {prompt_id, prompt, response, answer, correct, score, [model], [temperature]} → a bon-eval run
//            (tag "import", status succeeded) with one SampleSet per prompt and an "imported-score" layer.
//   dataset: JSONL in gsm8k | math | qa | humaneval format → Dataset + Problems with content hashes.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;
using BonStudio.Web.RunKinds;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

public sealed class EvaluationImports(IDbContextFactory<BonStudioDb> dbFactory)
{
    public const string ImportedScoreLayer = "imported-score";

    /// <summary>Imports a samples file as an evaluation run. Throws <see cref="JsonlFormatException"/> (with the line) on bad input.</summary>
    public async Task<ImportSamplesResult> ImportSamplesAsync(TextReader reader, string? name, string? fileName, CancellationToken ct = default)
    {
        var records = SamplesJsonl.Read(reader);
        var prompts = SamplesJsonl.GroupByPrompt(records); // validates: one model, one temperature, same n everywhere
        var first = records[0];
        int n = prompts[0].Correct.Count;
        double temperature = first.Temperature ?? 1.0;

        var config = new JsonObject
        {
            ["import"] = new JsonObject
            {
                ["file"] = fileName is null ? null : Path.GetFileName(fileName),
                ["model"] = first.Model,
                ["temperature"] = temperature,
                ["prompts"] = prompts.Count,
                ["n"] = n,
                ["sha256"] = Sha256(string.Join("\n", records.Select(r => $"{r.PromptId}\t{r.Response}\t{r.Correct}\t{r.Score.ToString("R", CultureInfo.InvariantCulture)}"))),
            },
        };
        var configJson = config.ToJsonString();
        var now = DateTime.UtcNow;
        var run = new Run
        {
            Kind = BonEvalKind.KindName,
            Name = string.IsNullOrWhiteSpace(name) ? $"import {Path.GetFileName(fileName ?? "samples")} {now:yyyyMMdd-HHmmss}" : name.Trim(),
            ConfigJson = configJson, ConfigHash = Sha256(configJson), GroupHash = Sha256(configJson),
            Status = RunStatus.Succeeded, Progress = 1, StatusMessage = "imported", CreatedAt = now, StartedAt = now, FinishedAt = now,
            Notes = first.Model is null ? null : $"samples of model '{first.Model}' imported from {Path.GetFileName(fileName ?? "a file")}",
        };
        run.TagList = ["import"];

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Runs.Add(run);
        await db.SaveChangesAsync(ct);
        var layer = new ScoreLayer { RunId = run.Id, Verifier = ImportedScoreLayer, ConfigJson = "{\"source\":\"score field of the imported file\"}" };
        db.ScoreLayers.Add(layer);
        await db.SaveChangesAsync(ct);

        db.ChangeTracker.AutoDetectChangesEnabled = false;
        foreach (var group in records.GroupBy(r => r.PromptId))
        {
            var rows = group.ToList();
            db.SampleSets.Add(new SampleSet
            {
                RunId = run.Id, PromptKey = group.Key, PromptText = rows[0].Prompt, Temperature = temperature, N = rows.Count,
                CorrectCount = rows.Count(r => r.Correct),
                Samples = rows.Select((r, i) => new Sample
                {
                    Index = i, Text = r.Response, ExtractedAnswer = r.Answer, Correct = r.Correct, TokenCount = 0,
                    Scores = [new Score { ScoreLayerId = layer.Id, Value = r.Score }],
                }).ToList(),
            });
        }
        db.ChangeTracker.DetectChanges();
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();

        // Summary metrics in the same transaction, computed from the parsed file (the same numbers BonMetrics gives later).
        foreach (var (metric, step, value) in Summary(prompts, temperature))
        {
            db.MetricPoints.Add(new MetricPoint { RunId = run.Id, Name = metric, Step = step, Value = value, WallTime = now });
            db.RunSummaries.Add(new RunSummary { RunId = run.Id, Name = metric, Step = step, Value = value });
        }
        db.ChangeTracker.DetectChanges();
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new ImportSamplesResult(run.Id, prompts.Count, n, records.Count);
    }

    private static IEnumerable<(string, long, double)> Summary(IReadOnlyList<PromptSamples> prompts, double temperature)
    {
        var agg = BonMetrics.Aggregate(prompts.Select(p => BonMetrics.ForPrompt(p)).ToArray());
        foreach (int k in EvaluationService.SummaryKs(agg.N))
        {
            yield return ($"bon/pass_at_{k}", k, agg.PassAtK[k - 1].Mean);
            yield return ($"bon/maj_at_{k}", k, agg.MajAtK![k - 1].Mean);
            yield return ($"bon/bon_at_{k}@{ImportedScoreLayer}", k, agg.BonAtK![k - 1].Mean);
        }
    }

    /// <summary>Imports a data set file. Throws <see cref="JsonlFormatException"/> (with the line) on bad input.</summary>
    public async Task<ImportDatasetResult> ImportDatasetAsync(TextReader reader, string format, string name, string? source, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("name: give the data set a name");
        if (name.Length > 300) throw new ArgumentException("name: at most 300 characters");
        format = (format ?? "").ToLowerInvariant();
        if (!DatasetImport.Formats.Contains(format)) throw new ArgumentException($"format: unknown value '{format}' ({string.Join(", ", DatasetImport.Formats)})");
        var items = DatasetImport.Read(reader, format);
        if (items.Count == 0) throw new JsonlFormatException(0, "the file has no problems");
        var dataset = new Dataset
        {
            Name = name.Trim(), Suite = format, Source = source is null ? null : Path.GetFileName(source),
            ContentHash = Sha256(string.Join("\n", items.Select(i => i.ContentHash))), ProblemCount = items.Count,
            Problems = items.Select(i => new Problem
            {
                ExternalId = i.Id, Prompt = i.Prompt, ReferenceAnswer = i.Reference,
                ReferenceSolution = format == "qa" ? JsonSerializer.Serialize(i.AcceptedAnswers) : i.Solution,
                Difficulty = i.Difficulty, Subject = i.Subject, ContentHash = i.ContentHash,
            }).ToList(),
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new ImportDatasetResult(dataset.Id, dataset.Name, format, items.Count, dataset.ContentHash);
    }

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
