// Tiny but real run configs for tests: seconds on a 2-core CPU.
using System.Text.Json.Nodes;
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests;

public static class TinyRuns
{
    /// <summary>A 1-layer, 16-wide GPT trained for a few steps on level-1 MiniMath, evaluated on 8 test problems.</summary>
    public static JsonObject SftConfig(int steps = 6) => new()
    {
        ["levels"] = new JsonArray(1), ["trainProblems"] = 64, ["validationProblems"] = 8, ["testProblems"] = 8,
        ["layers"] = 1, ["heads"] = 2, ["embeddingDim"] = 16, ["steps"] = steps, ["batchSize"] = 8,
        ["warmupSteps"] = 1, ["evalEvery"] = 3, ["logEvery"] = 1, ["checkpointEvery"] = 3, ["evalTemperatureOne"] = false,
        ["seed"] = 7, ["device"] = "cpu", ["threads"] = 1,
    };

    public static CreateRunRequest Sft(string name = "tiny sft", int steps = 6, params string[] tags) =>
        new("sft", name, SftConfig(steps), tags);

    /// <summary>A Deep Sea run of a few hundred simulator steps (finishes in a second or two).</summary>
    public static JsonObject RlConfig(long budget = 300) => new()
    {
        ["envSize"] = 4, ["budgetSteps"] = budget, ["evalEvery"] = 100, ["logEvery"] = 50, ["heads"] = 2, ["hidden"] = 8,
        ["learningStarts"] = 16, ["batchSize"] = 16, ["seed"] = 3, ["device"] = "cpu", ["threads"] = 1, ["heatmapEvery"] = 100,
    };

    public static CreateRunRequest Rl(string name = "tiny rl", long budget = 300, params string[] tags) =>
        new("rl", name, RlConfig(budget), tags);
}
