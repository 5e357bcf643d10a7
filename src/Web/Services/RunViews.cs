// Server-side data of the kind-specific run panels (bounded queries, nothing unbounded reaches the browser):
// RlRunViews = grid-world state-visitation / uncertainty heatmaps at any stored StateStat snapshot ("over time") and the
// timeline of UFLP resets (Episode rows with StartKind "reset"); BonFineTuneViews = the per-prompt weight vs failure-rate
// points BonFineTune writes to weights_vs_failure.csv in the run directory, and the val/bon_at_k and val/pass_at_k curves.
using System.Globalization;
using BonStudio.Data;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

/// <summary>One snapshot of a grid world: Visits[row][col] and Uncertainty[row][col] (null where not measured).</summary>
public sealed record GridSnapshot(long AtStep, int Rows, int Cols, long[][] Visits, double?[][] Uncertainty);

/// <summary>A UFLP reset: the episode restarted from <paramref name="State"/> ("row,col") when the run had taken <paramref name="AtStep"/> steps.</summary>
public sealed record ResetPoint(int Episode, long AtStep, string? State, double? Uncertainty, double Return, int Length);

/// <summary>Everything the RL panel draws: the snapshot steps, the chosen snapshot, resets (newest <c>max</c>) and their total count.</summary>
public sealed record RlRunView(IReadOnlyList<long> SnapshotSteps, GridSnapshot? Grid, IReadOnlyList<ResetPoint> Resets, int ResetCount, int EpisodeCount);

public sealed class RlRunViews(IDbContextFactory<BonStudioDb> dbFactory)
{
    public const int MaxSnapshots = 500;
    public const int MaxResets = 500;
    /// <summary>Larger grids are not drawn (a 10k-cell heatmap is already more than a page needs).</summary>
    public const int MaxCells = 10_000;

    /// <summary>The view at snapshot <paramref name="atStep"/> (null or unknown = the latest).</summary>
    public async Task<RlRunView> GetAsync(int runId, long? atStep = null, int maxResets = 200, CancellationToken ct = default)
    {
        maxResets = Math.Clamp(maxResets, 0, MaxResets);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var steps = await db.StateStats.AsNoTracking().Where(s => s.RunId == runId).Select(s => s.AtStep).Distinct()
            .OrderByDescending(s => s).Take(MaxSnapshots).ToListAsync(ct);
        steps.Reverse();
        GridSnapshot? grid = null;
        if (steps.Count > 0)
        {
            long chosen = atStep is long a && steps.Contains(a) ? a : steps[^1];
            var cells = await db.StateStats.AsNoTracking().Where(s => s.RunId == runId && s.AtStep == chosen)
                .Select(s => new { s.StateKey, s.Visits, s.Uncertainty }).Take(MaxCells + 1).ToListAsync(ct);
            var parsed = cells.Select(c => (Cell: ParseCell(c.StateKey), c.Visits, c.Uncertainty)).Where(c => c.Cell is not null).ToList();
            if (parsed.Count is > 0 and <= MaxCells)
            {
                int rows = parsed.Max(c => c.Cell!.Value.Row) + 1, cols = parsed.Max(c => c.Cell!.Value.Col) + 1;
                var visits = Enumerable.Range(0, rows).Select(_ => new long[cols]).ToArray();
                var uncertainty = Enumerable.Range(0, rows).Select(_ => new double?[cols]).ToArray();
                foreach (var (cell, v, u) in parsed)
                {
                    visits[cell!.Value.Row][cell.Value.Col] = v;
                    uncertainty[cell.Value.Row][cell.Value.Col] = u;
                }
                grid = new GridSnapshot(chosen, rows, cols, visits, uncertainty);
            }
        }
        var resetsQuery = db.Episodes.AsNoTracking().Where(e => e.RunId == runId && !e.IsEvaluation && e.StartKind == "reset");
        int resetCount = await resetsQuery.CountAsync(ct);
        var resets = await resetsQuery.OrderByDescending(e => e.StepsSoFar).ThenByDescending(e => e.Index).Take(maxResets)
            .Select(e => new ResetPoint(e.Index, e.StepsSoFar, e.StartState, e.StartUncertainty, e.Return, e.Length)).ToListAsync(ct);
        resets.Reverse();
        int episodes = await db.Episodes.AsNoTracking().CountAsync(e => e.RunId == runId && !e.IsEvaluation, ct);
        return new RlRunView(steps, grid, resets, resetCount, episodes);
    }

    /// <summary>"row,col" → (row, col); anything else (a non-grid state key) → null.</summary>
    public static (int Row, int Col)? ParseCell(string? key)
    {
        var parts = (key ?? "").Split(',');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var r)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var c)
            && r < 10_000 && c < 10_000 ? (r, c) : null;
    }
}

/// <summary>One prompt of one training step: its failure rate under the policy and the summed |weight| of its samples.</summary>
public sealed record WeightPoint(long Step, int Level, double FailureRate, double WeightSum, double WeightAbsSum);

/// <summary>The BoN fine-tune panel's data: weight points (newest steps first, at most <c>max</c>) and validation curves by k.</summary>
public sealed record BonFineTuneView(IReadOnlyList<WeightPoint> Weights, int WeightRows,
    IReadOnlyDictionary<string, IReadOnlyList<(long Step, double Value)>> Validation);

public sealed class BonFineTuneViews(IDbContextFactory<BonStudioDb> dbFactory, Func<int, string> runDirectory)
{
    public const int MaxWeightPoints = 5_000;
    public const int MaxPointsPerCurve = 2_000;

    /// <summary>The CSV BonFineTune writes (one row per prompt per step); its path is derived from the run id only.</summary>
    public string CsvPath(int runId) =>
        Path.Combine(runDirectory(runId), "weights_vs_failure.csv");

    public async Task<BonFineTuneView> GetAsync(int runId, int maxWeightPoints = 2_000, CancellationToken ct = default)
    {
        maxWeightPoints = Math.Clamp(maxWeightPoints, 0, MaxWeightPoints);
        var (weights, rows) = ReadWeights(CsvPath(runId), maxWeightPoints);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var points = await db.MetricPoints.AsNoTracking()
            .Where(m => m.RunId == runId && (m.Name.StartsWith("val/bon_at_") || m.Name.StartsWith("val/pass_at_")))
            .OrderBy(m => m.Step).Select(m => new { m.Name, m.Step, m.Value }).Take(MaxPointsPerCurve * 32).ToListAsync(ct);
        var curves = points.GroupBy(p => p.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<(long, double)>)g.Select(p => (p.Step, p.Value)).TakeLast(MaxPointsPerCurve).ToList(), StringComparer.Ordinal);
        return new BonFineTuneView(weights, rows, curves);
    }

    /// <summary>The last <paramref name="max"/> well-formed rows of the CSV (a row being appended is skipped) and the row count.</summary>
    public static (List<WeightPoint> Points, int Rows) ReadWeights(string path, int max)
    {
        if (!File.Exists(path)) return ([], 0);
        var tail = new Queue<WeightPoint>();
        int rows = 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        reader.ReadLine(); // header: step,prompt_id,level,failure_rate,weight_sum,weight_abs_sum
        while (reader.ReadLine() is { } line)
        {
            var f = line.Split(',');
            // prompt ids are MiniMath ids (no commas); take the numeric fields from the end to be safe anyway.
            if (f.Length < 6
                || !long.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var step)
                || !int.TryParse(f[^4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var level)
                || !double.TryParse(f[^3], NumberStyles.Float, CultureInfo.InvariantCulture, out var failure)
                || !double.TryParse(f[^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var sum)
                || !double.TryParse(f[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var abs)) continue;
            rows++;
            tail.Enqueue(new WeightPoint(step, level, failure, sum, abs));
            if (tail.Count > max) tail.Dequeue();
        }
        return (tail.ToList(), rows);
    }
}
