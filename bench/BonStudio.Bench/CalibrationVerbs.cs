// Calibration verbs for the study scripts (studies/calibration): run calibration-eval / calibration-sft from the
// command line with a JSONL sink, and turn the JSONL files into tables and SVG reliability diagrams.
//   calib-eval model=<ckpt> out=<dir> [CalibrationEvalConfig property=value ...]
//   calib-sft  model=<ckpt> out=<dir> [CalibrationSftConfig property=value ...]   (arrays: comma-separated; Ladder: ';'-separated)
//   calib-report out=<dir> runs=<name>=<dir>[,<name>=<dir>...] [sources=a,b] [bins=15]
using System.Globalization;
using System.Reflection;
using System.Text;
using BonStudio.Training.Calibration;
using BonStudio.Training.Runtime;

namespace BonStudio.Bench;

public sealed class CalibrationEvalVerb : IBenchmark
{
    public string Name => "calib-eval";
    public string Description => "calibration-eval: calib-eval model=<ckpt> out=<dir> [Property=Value ...]";

    public Task RunAsync(string[] args)
    {
        var a = CalibrationArgs.Parse(args);
        var config = ConfigFromArgs.Build<CalibrationEvalConfig>(a, "model", "out");
        string outDir = a.Get("out", "runs/calibration-eval");
        Directory.CreateDirectory(outDir);
        var jsonl = Path.Combine(outDir, "calibration.jsonl");
        File.Delete(jsonl);
        var reporter = new ConsoleReporter();
        var result = CalibrationEval.Execute(config, a.Get("model", ""), outDir, reporter, new JsonlCalibrationSink(jsonl));
        CalibrationFigures.WriteMetrics(Path.Combine(outDir, "metrics.tsv"), reporter);
        Console.WriteLine($"RESULT accuracy={result.Accuracy:F3} " + string.Join(" ", result.Summaries.Select(s => $"{s.Source}:ece={s.Ece15:F3},brier={s.Brier:F3},auroc={s.Auroc:F3}")));
        return Task.CompletedTask;
    }
}

public sealed class CalibrationSftVerb : IBenchmark
{
    public string Name => "calib-sft";
    public string Description => "calibration-sft: calib-sft model=<ckpt> out=<dir> [Property=Value ...]";

    public Task RunAsync(string[] args)
    {
        var a = CalibrationArgs.Parse(args);
        var config = ConfigFromArgs.Build<CalibrationSftConfig>(a, "model", "out");
        string outDir = a.Get("out", "runs/calibration-sft");
        Directory.CreateDirectory(outDir);
        var jsonl = Path.Combine(outDir, "calibration.jsonl");
        File.Delete(jsonl);
        var reporter = new ConsoleReporter();
        var result = CalibrationSft.Execute(config, a.Get("model", ""), outDir, reporter, new JsonlCalibrationSink(jsonl));
        CalibrationFigures.WriteMetrics(Path.Combine(outDir, "metrics.tsv"), reporter);
        Console.WriteLine($"RESULT accuracy={result.TestAccuracy:F3} base_accuracy={result.BaseTestAccuracy:F3} unparseable={result.Unparseable}/{result.TestProblems} " +
                          string.Join(" ", result.Summaries.Select(s => $"{s.Source}:ece={s.Ece15:F3},brier={s.Brier:F3},auroc={s.Auroc:F3}")));
        return Task.CompletedTask;
    }
}

/// <summary>Builds a config record from key=value arguments (property names, case-insensitive).</summary>
public static class ConfigFromArgs
{
    public static T Build<T>(CalibrationArgs args, params string[] reserved) where T : new()
    {
        object config = new T();
        foreach (var (key, value) in args.Values)
        {
            if (reserved.Contains(key, StringComparer.OrdinalIgnoreCase)) continue;
            var prop = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => p.Name.Equals(key, StringComparison.OrdinalIgnoreCase) && p.CanWrite)
                ?? throw new ArgumentException($"'{key}' is not a {typeof(T).Name} property.");
            prop.SetValue(config, Parse(prop.PropertyType, value, key));
        }
        return (T)config;
    }

    private static object Parse(Type type, string value, string key)
    {
        if (type == typeof(string[])) return value.Split(value.Contains(';') ? ';' : ',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (type == typeof(int[])) return value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        try { return Convert.ChangeType(value, type, CultureInfo.InvariantCulture); }
        catch (FormatException) { throw new ArgumentException($"{key}: '{value}' is not a valid {type.Name}."); }
    }
}

public sealed class CalibrationReportVerb : IBenchmark
{
    public string Name => "calib-report";
    public string Description => "calibration tables + SVG reliability diagrams: calib-report out=<dir> runs=name=dir,... [sources=a,b] [bins=15] [title=...]";

    public Task RunAsync(string[] args)
    {
        var a = CalibrationArgs.Parse(args);
        string outDir = a.Get("out", "docs/figures");
        int bins = a.Int("bins", 15);
        var wanted = a.Get("sources", "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var curves = new List<(string Label, List<CalibrationRecord> Records)>();
        foreach (var spec in a.Get("runs", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = spec.IndexOf('=');
            string name = eq > 0 ? spec[..eq] : spec, dir = eq > 0 ? spec[(eq + 1)..] : spec;
            var records = JsonlCalibrationSink.Read(Path.Combine(dir, "calibration.jsonl"));
            foreach (var g in records.GroupBy(r => r.Source).Where(g => wanted.Count == 0 || wanted.Contains(g.Key)))
                curves.Add(($"{name}/{g.Key}", g.ToList()));
        }
        Directory.CreateDirectory(outDir);
        Console.WriteLine(CalibrationFigures.Table(curves));
        Console.WriteLine(CalibrationFigures.SeedTable(curves));
        Console.WriteLine(CalibrationFigures.ReliabilityTable(curves, bins));
        var svg = Path.Combine(outDir, a.Get("name", "reliability") + ".svg");
        File.WriteAllText(svg, CalibrationFigures.ReliabilitySvg(curves, bins, a.Get("title", "Reliability (equal-width bins)")));
        Console.WriteLine($"wrote {svg}");
        return Task.CompletedTask;
    }
}

/// <summary>Markdown tables and a plain SVG reliability diagram from raw pairs.</summary>
public static class CalibrationFigures
{
    public static void WriteMetrics(string path, ConsoleReporter reporter) =>
        File.WriteAllLines(path, reporter.Metrics.Select(m => $"{m.Name}\t{m.Step}\t{m.Value.ToString("R", CultureInfo.InvariantCulture)}"));

    public static string Table(IEnumerable<(string Label, List<CalibrationRecord> Records)> curves)
    {
        var sb = new StringBuilder("| curve | n | accuracy | mean conf. | ECE (15 equal-width) | ECE (10 equal-width) | ECE (15 equal-mass) | MCE (15 equal-width) | Brier | AUROC |\n|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var (label, records) in curves)
        {
            var s = CalibrationSummary.Of(label, records);
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {s.Count} | {s.Accuracy:F3} | {s.MeanConfidence:F3} | {s.Ece15:F3} | {Ece(records, 10, BonStudio.Training.Metrics.Binning.Width):F3} | {Ece(records, 15, BonStudio.Training.Metrics.Binning.Mass):F3} | {s.Mce15:F3} | {s.Brier:F3} | {(double.IsNaN(s.Auroc) ? "—" : s.Auroc.ToString("F3", CultureInfo.InvariantCulture))} |");
        }
        return sb.ToString();
    }

    private static double Ece(List<CalibrationRecord> records, int bins, BonStudio.Training.Metrics.Binning binning) =>
        BonStudio.Training.Metrics.CalibrationMetrics.Ece(Pairs(records), bins, binning);

    /// <summary>Mean ± sample standard deviation over runs (curves named run/source), grouped by source.</summary>
    public static string SeedTable(IEnumerable<(string Label, List<CalibrationRecord> Records)> curves)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("| source | runs | accuracy | mean conf. | ECE (15 equal-width) | ECE (10 equal-width) | ECE (15 equal-mass) | Brier | AUROC |\n|---|---|---|---|---|---|---|---|---|\n");
        foreach (var g in curves.GroupBy(c => c.Label[(c.Label.IndexOf('/') + 1)..]))
        {
            var s = g.Select(c => CalibrationSummary.Of(g.Key, c.Records)).ToList();
            var ece10 = g.Select(c => Ece(c.Records, 10, BonStudio.Training.Metrics.Binning.Width)).ToList();
            var ece15m = g.Select(c => Ece(c.Records, 15, BonStudio.Training.Metrics.Binning.Mass)).ToList();
            string F(Func<CalibrationSummary, double> f) => MeanSd(s.Select(f));
            string MeanSd(IEnumerable<double> values)
            {
                var v = values.Where(double.IsFinite).ToList();
                if (v.Count == 0) return "—";
                double m = v.Average(), sd = v.Count > 1 ? Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1)) : 0;
                return string.Create(inv, $"{m:F3} ± {sd:F3}");
            }
            sb.AppendLine(string.Create(inv, $"| {g.Key} | {s.Count} | {F(x => x.Accuracy)} | {F(x => x.MeanConfidence)} | {F(x => x.Ece15)} | {MeanSd(ece10)} | {MeanSd(ece15m)} | {F(x => x.Brier)} | {F(x => x.Auroc)} |"));
        }
        return sb.ToString();
    }

    /// <summary>Per equal-width bin [lo, hi) (last closed): count, mean confidence, accuracy (NaN when empty), from the shared metrics module.</summary>
    public static List<(double Lo, double Hi, int Count, double Confidence, double Accuracy)> Bins(IReadOnlyList<CalibrationRecord> records, int bins) =>
        BonStudio.Training.Metrics.CalibrationMetrics.Bins(Pairs(records), bins, BonStudio.Training.Metrics.Binning.Width)
            .Select(b => (b.Lo, b.Hi, b.Count, b.Confidence ?? double.NaN, b.Accuracy ?? double.NaN)).ToList();

    private static BonStudio.Training.Metrics.CalibrationPair[] Pairs(IReadOnlyList<CalibrationRecord> records) =>
        records.Select(r => new BonStudio.Training.Metrics.CalibrationPair(r.Confidence, r.Correct)).ToArray();

    public static string ReliabilityTable(IEnumerable<(string Label, List<CalibrationRecord> Records)> curves, int bins)
    {
        var sb = new StringBuilder();
        foreach (var (label, records) in curves)
        {
            var cells = Bins(records, bins).Where(b => b.Count > 0)
                .Select(b => string.Create(CultureInfo.InvariantCulture, $"[{b.Lo:F2},{b.Hi:F2}) n={b.Count} conf={b.Confidence:F2} acc={b.Accuracy:F2}"));
            sb.AppendLine($"{label}: {string.Join("  ", cells)}");
        }
        return sb.ToString();
    }

    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    /// <summary>Accuracy vs mean confidence per non-empty bin for each curve, the diagonal, and per-bin counts below.</summary>
    public static string ReliabilitySvg(IReadOnlyList<(string Label, List<CalibrationRecord> Records)> curves, int bins, string title)
    {
        const double W = 420, H = 420, M = 50, HistH = 90;
        double X(double v) => M + v * (W - 2 * M);
        double Y(double v) => H - M - v * (H - 2 * M);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        double totalH = H + HistH + 20 + 18 * curves.Count;
        sb.AppendLine(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{totalH}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.AppendLine(inv, $"<rect width=\"{W}\" height=\"{totalH}\" fill=\"white\"/>");
        sb.AppendLine(inv, $"<text x=\"{W / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">{System.Security.SecurityElement.Escape(title)}</text>");
        sb.AppendLine(inv, $"<rect x=\"{X(0)}\" y=\"{Y(1)}\" width=\"{X(1) - X(0)}\" height=\"{Y(0) - Y(1)}\" fill=\"none\" stroke=\"#999\"/>");
        sb.AppendLine(inv, $"<line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(1)}\" y2=\"{Y(1)}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>");
        for (int t = 0; t <= 5; t++)
        {
            double v = t / 5.0;
            sb.AppendLine(inv, $"<text x=\"{X(v)}\" y=\"{Y(0) + 14}\" text-anchor=\"middle\">{v:F1}</text><text x=\"{X(0) - 6}\" y=\"{Y(v) + 4}\" text-anchor=\"end\">{v:F1}</text>");
        }
        sb.AppendLine(inv, $"<text x=\"{W / 2}\" y=\"{Y(0) + 30}\" text-anchor=\"middle\">confidence</text>");
        sb.AppendLine(inv, $"<text x=\"14\" y=\"{H / 2}\" transform=\"rotate(-90 14 {H / 2})\" text-anchor=\"middle\">accuracy</text>");
        double histTop = H + 5, barW = (X(1) - X(0)) / bins / Math.Max(1, curves.Count);
        int maxCount = curves.SelectMany(c => Bins(c.Records, bins)).Select(b => b.Count).DefaultIfEmpty(1).Max();
        for (int c = 0; c < curves.Count; c++)
        {
            var color = Colors[c % Colors.Length];
            var pts = Bins(curves[c].Records, bins).Where(b => b.Count > 0).ToList();
            sb.AppendLine(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\" points=\"{string.Join(" ", pts.Select(b => $"{X(b.Confidence):F1},{Y(b.Accuracy):F1}"))}\"/>");
            foreach (var b in pts) sb.AppendLine(inv, $"<circle cx=\"{X(b.Confidence):F1}\" cy=\"{Y(b.Accuracy):F1}\" r=\"3\" fill=\"{color}\"/>");
            var all = Bins(curves[c].Records, bins);
            for (int b = 0; b < bins; b++)
            {
                if (all[b].Count == 0) continue;
                double h = HistH * all[b].Count / maxCount;
                sb.AppendLine(inv, $"<rect x=\"{X(all[b].Lo) + c * barW:F1}\" y=\"{histTop + HistH - h:F1}\" width=\"{barW:F1}\" height=\"{h:F1}\" fill=\"{color}\" opacity=\"0.7\"/>");
            }
            var s = CalibrationSummary.Of(curves[c].Label, curves[c].Records);
            sb.AppendLine(inv, $"<text x=\"{M}\" y=\"{histTop + HistH + 18 + 18 * c}\" fill=\"{color}\">{System.Security.SecurityElement.Escape(curves[c].Label)}: ECE₁₅ {s.Ece15:F3}, Brier {s.Brier:F3}, AUROC {s.Auroc:F3}, n {s.Count}</text>");
        }
        sb.AppendLine(inv, $"<text x=\"{W - M}\" y=\"{histTop + 10}\" text-anchor=\"end\" fill=\"#666\">bin counts (max {maxCount})</text>");
        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
