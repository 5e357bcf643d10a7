// Storage and view-time metrics of calibration pairs (issue #5 items 2, 4, 5): the ICalibrationSink that run kinds
// write CalibrationPoint rows through, the `import calibration` JSONL import, and per-curve reports (a curve = run +
// source) recomputed from the raw pairs with the estimator the viewer picks. Shared by the API, the CLI and the page.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Calibration;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;
using Microsoft.EntityFrameworkCore;
using MetricsRecord = BonStudio.Training.Metrics.CalibrationRecord;

namespace BonStudio.Web.Services;

/// <summary>Result of an import: the run holding the pairs and the pairs per source.</summary>
public sealed record ImportCalibrationResult(int RunId, string Name, int Pairs, IReadOnlyDictionary<string, int> PairsBySource);

/// <summary>One (run, source) pair set available for comparison.</summary>
public sealed record CalibrationCurveInfo(int RunId, string RunName, string Kind, string Source, int Count, string? ModelName);

/// <summary>A curve's metrics under one estimator; Bands (when asked) are seeded 95% bootstrap bands per bin.</summary>
public sealed record CalibrationCurveReport(int RunId, string RunName, string Source, string Estimator, CalibrationReport Report,
    IReadOnlyList<BinBand>? Bands);

public sealed class CalibrationNotFoundException(string message) : Exception(message);

public sealed class CalibrationStore(IDbContextFactory<BonStudioDb> dbFactory)
{
    /// <summary>Source name given to imported lines without a "source" field.</summary>
    public const string ImportedSource = "imported";

    /// <summary>A sink storing each batch as CalibrationPoint rows of <paramref name="runId"/> in one transaction.</summary>
    public ICalibrationSink OpenSink(int runId) => new DbCalibrationSink(dbFactory, runId);

    /// <summary>Removes the points of a run (a retried run starts from scratch instead of duplicating pairs).</summary>
    public int DeletePoints(int runId)
    {
        using var db = dbFactory.CreateDbContext();
        return db.CalibrationPoints.Where(p => p.RunId == runId).ExecuteDelete();
    }

    /// <summary>Imports a calibration JSONL file as a finished "calibration-eval" run marked imported. A bad line rejects
    /// the whole file (JsonlFormatException with the line number) before anything is stored.</summary>
    public async Task<ImportCalibrationResult> ImportAsync(TextReader reader, string? name, string? fileName, CancellationToken ct = default)
    {
        var records = CalibrationJsonl.Read(reader);
        if (records.Count == 0) throw new JsonlFormatException(0, "the file has no calibration pairs");
        var bySource = records.GroupBy(r => SourceOf(r)).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var models = records.Select(r => r.Model).Where(m => m is not null).Distinct().ToList();
        var hash = Sha256(string.Join("\n", records.Select(r =>
            $"{r.Confidence.ToString("R", CultureInfo.InvariantCulture)}\t{r.Correct}\t{r.Model}\t{r.Source}\t{r.QuestionId}")));
        var config = new JsonObject
        {
            ["import"] = new JsonObject
            {
                ["file"] = fileName is null ? null : Path.GetFileName(fileName),
                ["format"] = "calibration",
                ["pairs"] = records.Count,
                ["sources"] = new JsonArray(bySource.Keys.Select(k => (JsonNode)JsonValue.Create(k)!).ToArray()),
                ["sha256"] = hash,
            },
        };
        var configJson = config.ToJsonString();
        var now = DateTime.UtcNow;
        var run = new Run
        {
            Kind = CalibrationEval.Kind,
            Name = string.IsNullOrWhiteSpace(name) ? $"import {Path.GetFileName(fileName ?? "calibration")} {now:yyyyMMdd-HHmmss}" : name.Trim(),
            ConfigJson = configJson, ConfigHash = Sha256(configJson), GroupHash = Sha256(configJson),
            Status = RunStatus.Succeeded, Progress = 1, StatusMessage = "imported", CreatedAt = now, StartedAt = now, FinishedAt = now,
            Notes = models.Count == 0 ? "calibration pairs imported" : $"calibration pairs of {string.Join(", ", models.Select(m => $"'{m}'"))} imported",
        };
        run.TagList = ["import", "calibration"];

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Runs.Add(run);
        await db.SaveChangesAsync(ct);
        db.CalibrationPoints.AddRange(records.Select(r => new CalibrationPoint
        {
            RunId = run.Id, Source = SourceOf(r), QuestionKey = r.QuestionId, Confidence = r.Confidence, Correct = r.Correct, ModelName = r.Model,
        }));
        await db.SaveChangesAsync(ct);
        // Summary metrics (15 equal-width bins, the default estimator) so the runs list shows them like any run's.
        foreach (var source in bySource.Keys)
        {
            var pairs = records.Where(r => SourceOf(r) == source).Select(r => new CalibrationPair(r.Confidence, r.Correct)).ToList();
            var report = CalibrationMetrics.Report(pairs);
            db.RunSummaries.Add(new RunSummary { RunId = run.Id, Name = $"calibration/{source}/ece", Step = 0, Value = report.Ece });
            db.RunSummaries.Add(new RunSummary { RunId = run.Id, Name = $"calibration/{source}/brier", Step = 0, Value = report.Brier });
            db.RunSummaries.Add(new RunSummary { RunId = run.Id, Name = $"calibration/{source}/accuracy", Step = 0, Value = report.Accuracy });
            if (report.Auroc is double auroc) db.RunSummaries.Add(new RunSummary { RunId = run.Id, Name = $"calibration/{source}/auroc", Step = 0, Value = auroc });
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new ImportCalibrationResult(run.Id, run.Name, records.Count, bySource);
    }

    private static string SourceOf(MetricsRecord r) => string.IsNullOrWhiteSpace(r.Source) ? ImportedSource : r.Source.Trim();

    /// <summary>Every (run, source) with stored pairs, newest run first.</summary>
    public async Task<IReadOnlyList<CalibrationCurveInfo>> CurvesAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var groups = await db.CalibrationPoints.AsNoTracking()
            .GroupBy(p => new { p.RunId, p.Source })
            .Select(g => new { g.Key.RunId, g.Key.Source, Count = g.Count(), Model = g.Max(p => p.ModelName) })
            .ToListAsync(ct);
        var runIds = groups.Select(g => g.RunId).Distinct().ToList();
        var runs = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).Select(r => new { r.Id, r.Name, r.Kind }).ToDictionaryAsync(r => r.Id, ct);
        return groups.Where(g => runs.ContainsKey(g.RunId))
            .OrderByDescending(g => g.RunId).ThenBy(g => g.Source, StringComparer.Ordinal)
            .Select(g => new CalibrationCurveInfo(g.RunId, runs[g.RunId].Name, runs[g.RunId].Kind, g.Source, g.Count, g.Model)).ToList();
    }

    /// <summary>The raw pairs of one run and source, in storage order.</summary>
    public async Task<IReadOnlyList<CalibrationPair>> PairsAsync(int runId, string source, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.CalibrationPoints.AsNoTracking().Where(p => p.RunId == runId && p.Source == source).OrderBy(p => p.Id)
            .Select(p => new CalibrationPair(p.Confidence, p.Correct)).ToListAsync(ct);
    }

    /// <summary>Reports for the given runs: every source of each run, or only <paramref name="source"/> when given.
    /// Throws CalibrationNotFoundException naming an unknown run, or a run/source without pairs.</summary>
    public async Task<IReadOnlyList<CalibrationCurveReport>> ReportsAsync(IReadOnlyList<int> runIds, string? source, int bins, Binning binning,
        bool bands = false, long bandSeed = 0, CancellationToken ct = default)
    {
        if (bins is < 1 or > 1000) throw new ArgumentException($"bins: must be in 1..1000, got {bins}");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var result = new List<CalibrationCurveReport>();
        foreach (var runId in runIds.Distinct())
        {
            var run = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => new { r.Id, r.Name }).FirstOrDefaultAsync(ct)
                ?? throw new CalibrationNotFoundException($"run {runId} does not exist");
            var sources = await db.CalibrationPoints.AsNoTracking().Where(p => p.RunId == runId).Select(p => p.Source).Distinct().ToListAsync(ct);
            if (source is not null) sources = sources.Where(s => s == source).ToList();
            if (sources.Count == 0)
                throw new CalibrationNotFoundException(source is null ? $"run {runId} has no calibration pairs" : $"run {runId} has no calibration pairs of source '{source}'");
            foreach (var s in sources.Order(StringComparer.Ordinal))
                result.Add(await CurveAsync(run.Id, run.Name, s, bins, binning, bands, bandSeed, ct));
        }
        return result;
    }

    /// <summary>One curve's report.</summary>
    public async Task<CalibrationCurveReport> CurveAsync(int runId, string runName, string source, int bins, Binning binning,
        bool bands = false, long bandSeed = 0, CancellationToken ct = default)
    {
        var pairs = await PairsAsync(runId, source, ct);
        if (pairs.Count == 0) throw new CalibrationNotFoundException($"run {runId} has no calibration pairs of source '{source}'");
        return new CalibrationCurveReport(runId, runName, source, CalibrationMetrics.DescribeBinning(bins, binning),
            CalibrationMetrics.Report(pairs, bins, binning),
            bands ? CalibrationMetrics.BootstrapBands(pairs, bins, binning, resamples: 500, seed: bandSeed) : null);
    }

    public static bool TryParseBinning(string? text, out Binning binning)
    {
        binning = Binning.Width;
        switch ((text ?? "width").Trim().ToLowerInvariant())
        {
            case "width": return true;
            case "mass": binning = Binning.Mass; return true;
            default: return false;
        }
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Stores each batch of records in one SaveChanges (a batch = one source of one run).</summary>
    private sealed class DbCalibrationSink(IDbContextFactory<BonStudioDb> dbFactory, int runId) : ICalibrationSink
    {
        public void Add(IReadOnlyList<Training.Calibration.CalibrationRecord> records)
        {
            using var db = dbFactory.CreateDbContext();
            foreach (var chunk in records.Chunk(2000))
            {
                db.CalibrationPoints.AddRange(chunk.Select(r => new CalibrationPoint
                {
                    RunId = runId, Source = r.Source, QuestionKey = r.QuestionKey, Confidence = r.Confidence, Correct = r.Correct,
                    Phrase = r.Phrase, Answer = r.Answer is { Length: > 500 } a ? a[..500] : r.Answer,
                }));
                db.SaveChanges();
                db.ChangeTracker.Clear();
            }
        }
    }
}
