// Calibration imports and reports over the real API (Kestrel, SQLite): a good file → a run whose curves' reports equal
// CalibrationMetrics on the same pairs; a malformed line → 400 naming the line, nothing stored; too large → 413; unknown
// run → 404. The CLI: `import calibration` (exit 2 with the line, nothing stored) and `metrics calibration --json`
// printing exactly CalibrationReport.ToJson() without a database.
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Training.Metrics;
using BonStudio.Web.Cli;
using BonStudio.Web.Services;
using BonStudio.Web.Tests.Evaluation;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Calibration;

public class CalibrationImportTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>6 "likelihood" pairs and 4 "p-true" pairs of one model.</summary>
    internal const string TwoSources = """
        {"confidence": 0.95, "correct": true, "model": "m1", "source": "likelihood", "question_id": "q1"}
        {"confidence": 0.85, "correct": false, "model": "m1", "source": "likelihood", "question_id": "q2"}
        {"confidence": 0.62, "correct": true, "model": "m1", "source": "likelihood", "question_id": "q3"}
        {"confidence": 0.40, "correct": false, "model": "m1", "source": "likelihood", "question_id": "q4"}
        {"confidence": 0.15, "correct": false, "model": "m1", "source": "likelihood", "question_id": "q5"}
        {"confidence": 1.0, "correct": true, "model": "m1", "source": "likelihood", "question_id": "q6"}
        {"confidence": 0.7, "correct": true, "model": "m1", "source": "p-true", "question_id": "q1"}
        {"confidence": 0.7, "correct": false, "model": "m1", "source": "p-true", "question_id": "q2"}
        {"confidence": 0.2, "correct": true, "model": "m1", "source": "p-true", "question_id": 3}
        {"confidence": 0.0, "correct": false, "model": "m1", "source": "p-true", "question_id": 4}
        """;

    internal static List<CalibrationPair> PairsOf(string jsonl, string source) =>
        CalibrationJsonl.Read(new StringReader(jsonl)).Where(r => (r.Source ?? "imported") == source)
            .Select(r => new CalibrationPair(r.Confidence, r.Correct)).ToList();

    private static StringContent Body(string text) => new(text, Encoding.UTF8, "application/x-ndjson");

    [Fact]
    public async Task ImportStoresTheFileWholeAndTheApiRecomputesReportsFromThePairs()
    {
        using var app = new EvalApp(new() { ["EvaluationOptions:MaxUploadBytes"] = "3000" });
        using var http = app.Client(app.Start());

        var ok = await http.PostAsync("/api/imports/calibration?name=elsewhere", Body(TwoSources));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var imported = (await ok.Content.ReadFromJsonAsync<ImportCalibrationResult>(Json))!;
        Assert.Equal(10, imported.Pairs);
        Assert.Equal(6, imported.PairsBySource["likelihood"]);
        Assert.Equal(4, imported.PairsBySource["p-true"]);
        using (var db = app.Db())
        {
            var run = await db.Runs.SingleAsync();
            Assert.Equal(("calibration-eval", "elsewhere", "imported"), (run.Kind, run.Name, run.StatusMessage));
            Assert.Contains("import", run.TagList);
            Assert.Equal(10, await db.CalibrationPoints.CountAsync(p => p.RunId == run.Id));
            Assert.Equal("m1", (await db.CalibrationPoints.FirstAsync()).ModelName);
        }

        // Reports per curve equal the metrics module on the same pairs, for both binnings.
        foreach (var (binning, kind) in new[] { ("width", Binning.Width), ("mass", Binning.Mass) })
        {
            var body = (await http.GetFromJsonAsync<JsonObject>($"/api/calibration?runs={imported.RunId}&bins=10&binning={binning}", Json))!;
            Assert.Equal(CalibrationMetrics.DescribeBinning(10, kind), body["estimator"]!.GetValue<string>());
            var curves = body["curves"]!.AsArray();
            Assert.Equal(["likelihood", "p-true"], curves.Select(c => c!["source"]!.GetValue<string>()));
            foreach (var c in curves)
            {
                var expected = CalibrationMetrics.Report(PairsOf(TwoSources, c!["source"]!.GetValue<string>()), 10, kind);
                var report = c["report"]!;
                Assert.Equal(expected.Ece, report["ece"]!.GetValue<double>(), 12);
                Assert.Equal(expected.Mce, report["mce"]!.GetValue<double>(), 12);
                Assert.Equal(expected.Brier, report["brier"]!.GetValue<double>(), 12);
                Assert.Equal(expected.Auroc!.Value, report["auroc"]!.GetValue<double>(), 12);
                Assert.Equal(expected.Bins.Count, report["bins"]!.AsArray().Count);
            }
        }
        var onlyPTrue = (await http.GetFromJsonAsync<JsonObject>($"/api/calibration?runs={imported.RunId}&source=p-true&bands=true&seed=3", Json))!;
        var single = Assert.Single(onlyPTrue["curves"]!.AsArray());
        Assert.Equal(15, single!["bands"]!.AsArray().Count);

        // Unknown run / source → 404; bad parameters → 400.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/calibration?runs=999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/calibration?runs={imported.RunId}&source=nope")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/api/calibration?runs={imported.RunId}&binning=quantile")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/calibration")).StatusCode);

        // A malformed line (line 4: confidence out of range) rejects the whole file: 400 naming the line, nothing stored.
        var lines = TwoSources.Split('\n');
        lines[3] = lines[3].Replace("0.40", "1.4");
        var bad = await http.PostAsync("/api/imports/calibration", Body(string.Join('\n', lines)));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("line 4", await bad.Content.ReadAsStringAsync());
        lines = TwoSources.Split('\n');
        lines[6] = "{\"confidence\": 0.5}";
        var missing = await http.PostAsync("/api/imports/calibration", Body(string.Join('\n', lines)));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("line 7", await missing.Content.ReadAsStringAsync());
        // Over the limit (3000 bytes): 413.
        var big = string.Join('\n', Enumerable.Repeat(TwoSources.Split('\n')[0], 60));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await http.PostAsync("/api/imports/calibration", Body(big))).StatusCode);
        using (var db = app.Db())
        {
            Assert.Equal(1, await db.Runs.CountAsync());
            Assert.Equal(10, await db.CalibrationPoints.CountAsync());
        }
    }

    [Fact]
    public async Task ImportCalibrationVerbRejectsAMalformedFileWithTheLineAndStoresNothing()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bs-calcli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var good = Path.Combine(dir, "good.jsonl");
            var bad = Path.Combine(dir, "bad.jsonl");
            await File.WriteAllTextAsync(good, TwoSources);
            await File.WriteAllTextAsync(bad, TwoSources.Split('\n')[0] + "\n{\"confidence\": 0.3, \"correct\": \"yes\"}\n");
            var data = Path.Combine(dir, "data");

            var out1 = new StringWriter(); var err1 = new StringWriter();
            Assert.True(await BonStudioCli.InvokeAsync(["--data-dir", data, "import", "calibration", good], out1, err1) == 0, err1.ToString());
            Assert.StartsWith("run 1:", out1.ToString());
            Assert.Contains("10 pairs", out1.ToString());

            var err2 = new StringWriter();
            Assert.Equal(2, await BonStudioCli.InvokeAsync(["--data-dir", data, "import", "calibration", bad], new StringWriter(), err2));
            Assert.Contains("line 2", err2.ToString());
            Assert.Contains("nothing was imported", err2.ToString());

            // Nothing was stored by the rejected file: the next import is run 2.
            var out3 = new StringWriter(); var err3 = new StringWriter();
            Assert.True(await BonStudioCli.InvokeAsync(["--data-dir", data, "import", "calibration", good], out3, err3) == 0, err3.ToString());
            Assert.StartsWith("run 2:", out3.ToString());
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    [Fact]
    public async Task MetricsCalibrationPrintsExactlyTheReportJsonWithoutADatabase()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bs-calcli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "likelihood.jsonl");
            var likelihood = string.Join('\n', TwoSources.Split('\n').Take(6));
            await File.WriteAllTextAsync(file, likelihood);
            var pairs = PairsOf(likelihood, "likelihood");
            foreach (var (binning, kind) in new[] { ("width", Binning.Width), ("mass", Binning.Mass) })
            {
                var output = new StringWriter(); var error = new StringWriter();
                int code = await BonStudioCli.InvokeAsync(["--data-dir", Path.Combine(dir, "never-created"), "metrics", "calibration", file, "--bins", "4", "--binning", binning, "--json"], output, error);
                Assert.True(code == 0, error.ToString());
                Assert.Equal(CalibrationMetrics.Report(pairs, 4, kind).ToJson(), output.ToString().Trim());
                var obj = JsonNode.Parse(output.ToString())!.AsObject();
                Assert.Equal(["n", "accuracy", "ece", "mce", "brier", "auroc", "bins"], obj.Select(kv => kv.Key));
                Assert.Equal(["lo", "hi", "count", "confidence", "accuracy"], obj["bins"]![0]!.AsObject().Select(kv => kv.Key));
                Assert.Equal(6, obj["n"]!.GetValue<int>());
            }
            // Equal-width [lo, hi) with the last closed: 1.0 lands in the last of 4 bins with 0.95 and 0.85.
            var widthOut = new StringWriter();
            await BonStudioCli.InvokeAsync(["metrics", "calibration", file, "--bins", "4", "--json"], widthOut, new StringWriter());
            Assert.Equal(3, JsonNode.Parse(widthOut.ToString())!["bins"]![3]!["count"]!.GetValue<int>());
            Assert.False(Directory.Exists(Path.Combine(dir, "never-created")));

            // Malformed → exit 2 with the line; two sources in one file → exit 2 (one report covers one source).
            await File.WriteAllTextAsync(file, TwoSources.Split('\n')[0] + "\n{not json\n");
            var err = new StringWriter();
            Assert.Equal(2, await BonStudioCli.InvokeAsync(["metrics", "calibration", file, "--json"], new StringWriter(), err));
            Assert.Contains("line 2", err.ToString());
            await File.WriteAllTextAsync(file, TwoSources);
            Assert.Equal(2, await BonStudioCli.InvokeAsync(["metrics", "calibration", file], new StringWriter(), new StringWriter()));
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}

public class CalibrationCsvTests
{
    [Fact]
    public void TableCsvNamesTheEstimatorAndDefusesSpreadsheetFormulasInNames()
    {
        var pairs = CalibrationImportTests.PairsOf(CalibrationImportTests.TwoSources, "p-true");
        var report = CalibrationMetrics.Report(pairs, 10, Binning.Mass);
        var csv = BonStudio.Web.Components.Pages.Calibration.Csv(
            [new CalibrationCurveReport(7, "=HYPERLINK(\"x\")", "p-true", CalibrationMetrics.DescribeBinning(10, Binning.Mass), report, null)],
            CalibrationMetrics.DescribeBinning(10, Binning.Mass)).Split('\n');
        Assert.Equal("run_id,run_name,source,n,accuracy,\"ECE (10 equal-mass bins)\",\"MCE (10 equal-mass bins)\",brier,auroc", csv[0]);
        Assert.StartsWith("7,\"'=HYPERLINK(\"\"x\"\")\",\"p-true\",4,", csv[1]);
        Assert.Contains(report.Ece.ToString("R", System.Globalization.CultureInfo.InvariantCulture), csv[1]);
    }
}
