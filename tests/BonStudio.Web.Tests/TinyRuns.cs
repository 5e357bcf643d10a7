// Tiny but real run configs for tests: seconds on a 2-core CPU.
using System.Text.Json.Nodes;
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests;

public static class TinyRuns
{
    /// <summary>A Deep Sea run of a few hundred simulator steps (finishes in a second or two).</summary>
    public static JsonObject RlConfig(long budget = 300) => new()
    {
        ["envSize"] = 4, ["budgetSteps"] = budget, ["evalEvery"] = 100, ["logEvery"] = 50, ["heads"] = 2, ["hidden"] = 8,
        ["learningStarts"] = 16, ["batchSize"] = 16, ["seed"] = 3, ["device"] = "cpu", ["threads"] = 1, ["heatmapEvery"] = 100,
    };

    public static CreateRunRequest Rl(string name = "tiny rl", long budget = 300, params string[] tags) =>
        new("rl", name, RlConfig(budget), tags);
}
