// Presets (named configs per kind, JSON files under the data directory) and seed-group curves over real Kestrel:
// save/list/get/delete, 400 naming the field (bad name, invalid config value), 404 for unknown kinds and presets;
// curves of compared runs folded into seed groups (mean, 95% band, n per step, each seed's curve).
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests.Experiments;

public class PresetsAndCurvesApiTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task PresetsAreSavedAsFilesListedLoadedAndDeletedAndBadOnesAreRefusedWithTheFieldNamed()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());

        // Save: validated like a run, written under the data directory.
        var saved = await http.PutAsJsonAsync("/api/presets/sft/tiny 6-step", new SavePresetRequest(TinyRuns.SftConfig(steps: 6)), Json);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "presets", "sft", "tiny 6-step.json")));
        var list = (await http.GetFromJsonAsync<List<RunPreset>>("/api/presets/sft", Json))!;
        var preset = Assert.Single(list);
        Assert.Equal("tiny 6-step", preset.Name);
        Assert.Equal(6, preset.Config["steps"]!.GetValue<int>());
        Assert.Empty((await http.GetFromJsonAsync<List<RunPreset>>("/api/presets/rl", Json))!);

        // Refused: a name that could become a path, and a config value out of range (nothing written).
        var badName = await http.PutAsJsonAsync("/api/presets/sft/" + Uri.EscapeDataString("..evil"), new SavePresetRequest(TinyRuns.SftConfig()), Json);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("\"name\"", await badName.Content.ReadAsStringAsync());
        var badConfig = TinyRuns.SftConfig();
        badConfig["steps"] = -1;
        var invalid = await http.PutAsJsonAsync("/api/presets/sft/broken", new SavePresetRequest(badConfig), Json);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("\"config.steps\"", await invalid.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PutAsJsonAsync("/api/presets/no-such-kind/x", new SavePresetRequest(TinyRuns.SftConfig()), Json)).StatusCode);
        Assert.Single(Directory.GetFiles(Path.Combine(app.DataDirectory, "presets", "sft")));

        // Unknown kind / preset: 404; delete: 204 then 404.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/presets/no-such-kind")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/presets/sft/missing")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/presets/sft/" + Uri.EscapeDataString("tiny 6-step"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/presets/sft/" + Uri.EscapeDataString("tiny 6-step"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync("/api/presets/sft/" + Uri.EscapeDataString("tiny 6-step"))).StatusCode);
    }

    [Theory]
    [InlineData("ok name_1.v2", true)]
    [InlineData("..", false)]
    [InlineData(".hidden", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("trailing.", false)]
    [InlineData("", false)]
    public void PresetNamesNeverBecomePaths(string name, bool ok) => Assert.Equal(ok, RunPresetStore.NameProblem(name) is null);

    [Fact]
    public async Task CompareCurvesFoldSeedsIntoAMeanWithABandAndKeepEachSeed()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());
        // Two seeds of one config (group "g"), one run of another; AddRun writes eval/accuracy at step 1 (value/2) and 5 (value).
        var a = await ExperimentsApiTests.AddRun(app, "g-s1", new JsonObject { ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.5 }, "g");
        var b = await ExperimentsApiTests.AddRun(app, "g-s2", new JsonObject { ["steps"] = 10 }, 2, new() { ["eval/accuracy"] = 0.7 }, "g");
        var c = await ExperimentsApiTests.AddRun(app, "other", new JsonObject { ["steps"] = 20 }, 1, new() { ["eval/accuracy"] = 0.9 });

        var curves = (await http.GetFromJsonAsync<List<GroupCurve>>($"/api/runs/compare/curves?ids={a},{b},{c}&metric=eval/accuracy", Json))!;

        Assert.Equal(["g", "other"], curves.Select(g => g.GroupHash));
        var g = curves[0];
        Assert.Equal(2, g.Seeds);
        Assert.Equal([a, b], g.PerSeed.Select(s => s.RunId));
        Assert.Equal([1L, 5L], g.Band.Select(p => p.Step));
        Assert.Equal(0.6, g.Band[1].Mean, 12);
        Assert.Equal(2, g.Band[1].Count);
        Assert.Equal(0.6 - 12.7062 * 0.1, g.Band[1].Low!.Value, 4); // sd 0.1414/√2 = 0.1, t(1) = 12.7062
        var single = curves[1];
        Assert.All(single.Band, p => { Assert.Equal(1, p.Count); Assert.Null(p.Low); });

        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/api/runs/compare/curves?ids={a}")).StatusCode); // metric missing
        var badIds = await http.GetAsync("/api/runs/compare/curves?ids=x&metric=eval/accuracy");
        Assert.Equal(HttpStatusCode.BadRequest, badIds.StatusCode);
        Assert.Contains("\"ids\"", await badIds.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/runs/compare/curves?ids=999999&metric=eval/accuracy")).StatusCode);
    }
}
