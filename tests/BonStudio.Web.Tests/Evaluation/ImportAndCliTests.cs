// Imports over the real API (samples, GSM8K and MATH data sets; malformed lines reject the whole file with the line
// number and store nothing; uploads over the limit → 413) and the database-free CLI verbs `metrics bon` and `grade`.
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Web.Cli;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Evaluation;

public class ImportAndCliTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>2 prompts × n = 3: p1 has one correct sample (the top score), p2 none.</summary>
    private const string Samples = """
        {"prompt_id": "p1", "prompt": "1+1?", "response": "2", "answer": "2", "correct": true, "score": 0.9, "model": "m", "temperature": 0.7}
        {"prompt_id": "p1", "prompt": "1+1?", "response": "3", "answer": "3", "correct": false, "score": 0.1, "model": "m", "temperature": 0.7}
        {"prompt_id": "p1", "prompt": "1+1?", "response": "<script>alert(1)</script> 3", "answer": "3", "correct": false, "score": 0.2, "model": "m", "temperature": 0.7}
        {"prompt_id": "p2", "prompt": "2+2?", "response": "5", "answer": "5", "correct": false, "score": 0.5, "model": "m", "temperature": 0.7}
        {"prompt_id": "p2", "prompt": "2+2?", "response": "no idea", "answer": null, "correct": false, "score": 0.4, "model": "m", "temperature": 0.7}
        {"prompt_id": "p2", "prompt": "2+2?", "response": "6", "answer": "6", "correct": false, "score": 0.3, "model": "m", "temperature": 0.7}
        """;

    private static StringContent Body(string text) => new(text, Encoding.UTF8, "application/x-ndjson");

    [Fact]
    public async Task SamplesAndDataSetsImportWholeOrNotAtAll()
    {
        using var app = new EvalApp(new() { ["EvaluationOptions:MaxUploadBytes"] = "4000" });
        using var http = app.Client(app.Start());

        // Samples → an evaluation that the metrics and prompts endpoints serve like any other.
        var ok = await http.PostAsync("/api/imports/samples?name=mine", Body(Samples));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var imported = (await ok.Content.ReadFromJsonAsync<ImportSamplesResult>(Json))!;
        Assert.Equal((2, 3, 6), (imported.Prompts, imported.N, imported.Samples));
        var curves = (await http.GetFromJsonAsync<EvaluationCurves>($"/api/evaluations/{imported.RunId}/metrics", Json))!;
        Assert.Equal(0.7, curves.Temperature);
        Assert.Equal(0.5 * (1.0 / 3), curves.PassAtK.Mean[0], 12);
        Assert.Equal(0.5, curves.PassAtK.Mean[2], 12);
        Assert.Equal(0.5, Assert.Single(curves.BonAtK).BonAtK.Mean[2], 12); // the top score of p1 is its correct sample
        var missed = (await http.GetFromJsonAsync<PromptPage>($"/api/evaluations/{imported.RunId}/prompts?filter=missed", Json))!;
        Assert.Equal(0, missed.Total);
        var solved = (await http.GetFromJsonAsync<PromptPage>($"/api/evaluations/{imported.RunId}/prompts?filter=solved", Json))!;
        Assert.Equal("p1", Assert.Single(solved.Items).PromptKey);
        using (var db = app.Db())
        {
            var run = await db.Runs.SingleAsync();
            Assert.Equal(("bon-eval", "mine"), (run.Kind, run.Name));
            Assert.Contains("import", run.TagList);
            Assert.Equal(1.0 / 3, (await db.RunSummaries.SingleAsync(s => s.Name == "bon/pass_at_2" && s.RunId == run.Id)).Value, 12);
        }

        // A malformed line (line 3: correct is a string) rejects the file: 400 naming the line, nothing stored.
        var lines = Samples.Split('\n');
        lines[2] = lines[2].Replace("\"correct\": false", "\"correct\": \"nope\"");
        var bad = await http.PostAsync("/api/imports/samples", Body(string.Join('\n', lines)));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("line 3", await bad.Content.ReadAsStringAsync());
        var uneven = await http.PostAsync("/api/imports/samples", Body(string.Join('\n', Samples.Split('\n').Take(5)))); // p1 n=3, p2 n=2
        Assert.Equal(HttpStatusCode.BadRequest, uneven.StatusCode);
        Assert.Contains("same n", await uneven.Content.ReadAsStringAsync());
        using (var db = app.Db()) { Assert.Equal(1, await db.Runs.CountAsync()); Assert.Equal(6, await db.Samples.CountAsync()); }

        // GSM8K and MATH data sets.
        var gsm8k = """
            {"question": "Tom has 3 apples and buys 4 more. How many?", "answer": "3 + 4 = 7\n#### 7"}
            {"question": "A pen costs $1,200 cents... how many dollars?", "answer": "It is 12.\n#### 12"}
            """;
        var g = await http.PostAsync("/api/imports/datasets?format=gsm8k&name=gsm-mini", Body(gsm8k));
        Assert.Equal(HttpStatusCode.Created, g.StatusCode);
        var gd = (await g.Content.ReadFromJsonAsync<ImportDatasetResult>(Json))!;
        Assert.Equal(2, gd.Problems);
        var math = """
            {"problem": "Compute $\\frac{1}{2}+\\frac{1}{2}$.", "solution": "It is $\\boxed{1}$.", "level": "Level 2", "type": "Algebra", "unique_id": "test/algebra/1.json"}
            {"problem": "Half of 1?", "solution": "So $\\boxed{\\dfrac{1}{2}}$.", "unique_id": "test/algebra/2.json"}
            {"problem": "broken", "unique_id": "test/algebra/3.json"}
            """;
        var mBad = await http.PostAsync("/api/imports/datasets?format=math&name=m", Body(math));
        Assert.Equal(HttpStatusCode.BadRequest, mBad.StatusCode);
        Assert.Contains("line 3", await mBad.Content.ReadAsStringAsync());
        var m = await http.PostAsync("/api/imports/datasets?format=math&name=math-mini", Body(string.Join('\n', math.Split('\n').Take(2))));
        Assert.Equal(HttpStatusCode.Created, m.StatusCode);
        using (var db = app.Db())
        {
            Assert.Equal(2, await db.Datasets.CountAsync());
            var problems = await db.Problems.OrderBy(p => p.Id).ToListAsync();
            Assert.Equal(4, problems.Count);
            Assert.Equal("7", problems[0].ReferenceAnswer.Split("####").Last().Trim());
            Assert.All(problems, p => Assert.Equal(64, p.ContentHash.Length));
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/imports/datasets?format=csv&name=x", Body(gsm8k))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/imports/datasets?format=gsm8k", Body(gsm8k))).StatusCode);

        // Over the configured limit (4000 bytes): 413, nothing stored.
        var big = string.Join('\n', Enumerable.Repeat(Samples.Split('\n')[0], 40));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await http.PostAsync("/api/imports/samples", Body(big))).StatusCode);
        using (var db = app.Db()) Assert.Equal(1, await db.Runs.CountAsync());
    }

    [Fact]
    public async Task MetricsBonPrintsExactlyTheDocumentedJsonWithoutADatabase()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bs-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "samples.jsonl");
        await File.WriteAllTextAsync(file, Samples);
        var output = new StringWriter();
        var error = new StringWriter();

        int code = await BonStudioCli.InvokeAsync(["--data-dir", Path.Combine(dir, "never-created"), "metrics", "bon", file, "--json"], output, error);

        Assert.True(code == 0, error.ToString());
        var obj = JsonNode.Parse(output.ToString())!.AsObject();
        Assert.Equal(["n_prompts", "n", "k", "pass_at_k", "bon_at_k", "maj_at_k"], obj.Select(kv => kv.Key));
        Assert.Equal(2, obj["n_prompts"]!.GetValue<int>());
        Assert.Equal(3, obj["n"]!.GetValue<int>());
        Assert.Equal([1, 2, 3], obj["k"]!.AsArray().Select(x => x!.GetValue<int>()));
        Assert.Equal(1.0 / 6, obj["pass_at_k"]![0]!.GetValue<double>(), 12);
        Assert.Equal(0.5, obj["bon_at_k"]![2]!.GetValue<double>(), 12);
        Assert.Equal(0.0, obj["maj_at_k"]![2]!.GetValue<double>(), 12); // p1's majority answer is 3 (wrong)
        Assert.False(Directory.Exists(Path.Combine(dir, "never-created")));

        // A malformed file: exit 2 and the line number.
        await File.WriteAllTextAsync(file, Samples.Split('\n')[0] + "\n{not json\n");
        var err2 = new StringWriter();
        Assert.Equal(2, await BonStudioCli.InvokeAsync(["metrics", "bon", file, "--json"], new StringWriter(), err2));
        Assert.Contains("line 2", err2.ToString());
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task GradePrintsOneJsonLinePerInputWithTheEvaluationChecker()
    {
        var file = Path.Combine(Path.GetTempPath(), $"bs-grade-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            """{"id": "a", "reference": "Janet sells 16 - 3 - 4 = 9 eggs.\n#### 18", "response": "She makes 9 * 2 = $18.\n#### 18"}""",
            """{"id": 2, "reference": "#### 1,000", "response": "The answer is 999."}""",
            """{"id": "c", "reference": "#### 5", "response": "I do not know."}""",
        ]);
        var output = new StringWriter();
        var error = new StringWriter();

        int code = await BonStudioCli.InvokeAsync(["grade", file, "--format", "gsm8k", "--json"], output, error);

        Assert.True(code == 0, error.ToString());
        var rows = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(["id", "extracted", "correct"], r.Select(kv => kv.Key)));
        Assert.Equal(("a", "18", true), (rows[0]["id"]!.GetValue<string>(), rows[0]["extracted"]!.GetValue<string>(), rows[0]["correct"]!.GetValue<bool>()));
        Assert.Equal(("2", false), (rows[1]["id"]!.GetValue<string>(), rows[1]["correct"]!.GetValue<bool>()));
        Assert.Null(rows[2]["extracted"]);
        Assert.False(rows[2]["correct"]!.GetValue<bool>());

        // MATH normalisation through the same verb: \dfrac{1}{2} vs 0.5, \left( \right), ^\circ.
        await File.WriteAllLinesAsync(file,
        [
            """{"id": "m1", "reference": "so $\\boxed{\\frac{1}{2}}$", "response": "thus \\boxed{0.5}"}""",
            """{"id": "m2", "reference": "\\boxed{90^\\circ}", "response": "\\boxed{90}"}""",
            """{"id": "m3", "reference": "\\boxed{3}", "response": "\\boxed{4}"}""",
        ]);
        var mathOut = new StringWriter();
        Assert.Equal(0, await BonStudioCli.InvokeAsync(["grade", file, "--format", "math", "--json"], mathOut, new StringWriter()));
        var verdicts = mathOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["correct"]!.GetValue<bool>()).ToList();
        Assert.Equal([true, true, false], verdicts);
        File.Delete(file);
    }
}
