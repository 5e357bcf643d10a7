// Web run configs compose their Training record (bon-finetune, calibration-*, verifier): the Training record's attributes
// are the form's and the binder's description, JSON stays flat, and every message still names its field.
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Training.Calibration;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Verifiers;
using BonStudio.Web.Cli;
using BonStudio.Web.RunKinds;

namespace BonStudio.Web.Tests;

public class ComposedConfigTests
{
    private static readonly RunConfigBinder Binder = new(new RunKindRegistry(RunKindRegistry.DiscoverTypes().Select(t => (IRunKind)Activator.CreateInstance(t)!)));

    [Fact]
    public void BonFineTuneFormFieldsAreTheTrainingRecordsParametersPlusTheWebOnlyIds()
    {
        var fields = ConfigSchema.Fields(typeof(BonFineTuneRunConfig));

        // Range and help come from BonFineTuneConfig's own attributes.
        var nPrime = Assert.Single(fields, f => f.JsonName == "nPrime");
        var trainingProperty = typeof(BonFineTuneConfig).GetProperty(nameof(BonFineTuneConfig.NPrime))!;
        Assert.Same(trainingProperty, nPrime.Property);
        Assert.Equal((1.0, 1024.0), (nPrime.Minimum, nPrime.Maximum));
        Assert.Equal(trainingProperty.GetCustomAttributes(typeof(System.ComponentModel.DescriptionAttribute), false)
            .Cast<System.ComponentModel.DescriptionAttribute>().Single().Description, nPrime.Help);
        Assert.Contains("bon-rlb-p", Assert.Single(fields, f => f.JsonName == "method").Choices!);
        // The web-only ids are fields; the path the kind resolves from rewardModelId is not.
        Assert.Contains(fields, f => f.JsonName == "modelId");
        Assert.Contains(fields, f => f.JsonName == "evaluateAfter");
        Assert.Contains(fields, f => f.JsonName == "rewardModelId");
        Assert.DoesNotContain(fields, f => f.JsonName is "rewardModelPath" or "training");
    }

    [Fact]
    public void FlatJsonBindsIntoTheComposedTrainingRecordAndCanonicalJsonStaysFlat()
    {
        var b = Binder.Bind("bon-finetune", JsonNode.Parse("""{"modelId": 5, "method": "bon-sft", "nPrime": 2, "samplesPerPrompt": 3, "levels": [2, 1]}""")!);

        Assert.True(b.IsValid, string.Join("; ", b.ErrorLines));
        var config = Assert.IsType<BonFineTuneRunConfig>(b.Config);
        Assert.Equal(5, config.ModelId);
        Assert.Equal(("bon-sft", 2, 3), (config.Training.Method, config.Training.NPrime, config.Training.SamplesPerPrompt));
        Assert.Equal([2, 1], config.Training.Levels);
        var canonical = JsonNode.Parse(b.CanonicalJson!)!.AsObject();
        Assert.Equal(2, canonical["nPrime"]!.GetValue<int>());
        Assert.Equal(5, canonical["modelId"]!.GetValue<int>());
        Assert.False(canonical.ContainsKey("training"));
        Assert.False(canonical.ContainsKey("rewardModelPath"));
        // What the job reads back from the database is the same config.
        var reread = (BonFineTuneRunConfig)JsonSerializer.Deserialize(b.CanonicalJson!, typeof(BonFineTuneRunConfig), RunConfigBinder.Json)!;
        Assert.Equal(b.CanonicalJson, RunConfigBinder.Canonicalize(reread, typeof(BonFineTuneRunConfig)));
        Assert.Equal(2, reread.Training.NPrime);
        Assert.Equal(1, ((BonStudio.Training.Runtime.IRunConfig)reread).Seed);
        // Two bound configs never share one Training record.
        var other = (BonFineTuneRunConfig)Binder.Bind("bon-finetune", new JsonObject()).Config!;
        Assert.Equal(4, other.Training.NPrime);
    }

    [Fact]
    public void RangeCrossFieldAndWebOnlyErrorsAreNamedByTheirJsonField()
    {
        var range = Binder.Bind("bon-finetune", new JsonObject { ["nPrime"] = 0, ["modelId"] = 0, ["rewardModelPath"] = "/etc/passwd" });
        Assert.Contains("nPrime", Assert.Single(range.Errors["config.nPrime"]));
        Assert.Contains("modelId", Assert.Single(range.Errors["config.modelId"]));
        Assert.Contains("rewardModelPath", Assert.Single(range.Errors["config.rewardModelPath"])); // not a parameter: the kind resolves it

        var crossField = Binder.Bind("bon-finetune", new JsonObject { ["method"] = "sft", ["nPrime"] = 2 });
        Assert.Contains("NPrime must be 1", Assert.Single(crossField.Errors["config.nPrime"]));

        var noRewardModel = Binder.Bind("bon-finetune", new JsonObject { ["verifier"] = "reward-model" });
        Assert.Equal(["config.rewardModelId"], noRewardModel.Errors.Keys);
        Assert.True(Binder.Bind("bon-finetune", new JsonObject { ["verifier"] = "reward-model", ["rewardModelId"] = 3 }).IsValid);
    }

    [Fact]
    public void CalibrationWebFieldsThatReplaceTrainingListsAreValidatedInTheirConvertedForm()
    {
        var badSource = Binder.Bind("calibration-eval", new JsonObject { ["sources"] = "p-true, guess" });
        Assert.Contains("'guess' is not a confidence source", Assert.Single(badSource.Errors["config.sources"]));
        var good = Binder.Bind("calibration-eval", new JsonObject { ["sources"] = "likelihood; consistency", ["split"] = "validation" });
        Assert.True(good.IsValid, string.Join("; ", good.ErrorLines));
        Assert.Equal(["likelihood", "consistency"], ((CalibrationEvalRunConfig)good.Config!).ToTraining().Sources);
        Assert.Equal("validation", ((CalibrationEvalRunConfig)good.Config!).ToTraining().Split);
        Assert.Equal("likelihood; consistency", JsonNode.Parse(good.CanonicalJson!)!["sources"]!.GetValue<string>());

        var badSplit = Binder.Bind("calibration-eval", new JsonObject { ["split"] = "train" });
        Assert.Contains("split", Assert.Single(badSplit.Errors["config.split"]));
        // Choices come from the Training record's attributes, so the form offers a list.
        Assert.Equal(["test", "validation"], Assert.Single(ConfigSchema.Fields(typeof(CalibrationEvalRunConfig)), f => f.JsonName == "split").Choices!);
        Assert.Equal(["source", "always-confident"], Assert.Single(ConfigSchema.Fields(typeof(CalibrationSftRunConfig)), f => f.JsonName == "labels").Choices!);

        var ladder = Binder.Bind("calibration-sft", new JsonObject { ["ladder"] = "sure=0.9; maybe=0.5", ["steps"] = 0 });
        Assert.Contains("steps", Assert.Single(ladder.Errors["config.steps"]));
        var sft = Binder.Bind("calibration-sft", new JsonObject { ["ladder"] = "sure=0.9; maybe=0.5" });
        Assert.True(sft.IsValid, string.Join("; ", sft.ErrorLines));
        Assert.Equal(["sure=0.9", "maybe=0.5"], ((CalibrationSftRunConfig)sft.Config!).ToTraining().Ladder);
    }

    [Fact]
    public void VerifierConfigIsTheRewardModelRecordWithTheCheckpointNamedByModelId()
    {
        var fields = ConfigSchema.Fields(typeof(VerifierRunConfig)).Select(f => f.JsonName).ToList();
        Assert.Contains("baseModelId", fields);
        Assert.Contains("heldOutFraction", fields);
        Assert.DoesNotContain("baseCheckpoint", fields);
        var b = Binder.Bind("verifier", new JsonObject { ["evaluationRunId"] = 7, ["steps"] = 12, ["heldOutFraction"] = 0.95 });
        Assert.Contains("heldOutFraction", Assert.Single(b.Errors["config.heldOutFraction"]));
        var ok = (VerifierRunConfig)Binder.Bind("verifier", new JsonObject { ["evaluationRunId"] = 7, ["steps"] = 12 }).Config!;
        Assert.Equal((7, 12), (ok.EvaluationRunId, ok.Training.Steps));
        Assert.Equal(new RewardModelConfig().BatchSize, ok.Training.BatchSize);
    }

    [Fact]
    public void TheBonFineTuneExampleFileStillBinds()
    {
        var (request, errors) = RunCommand.ReadRequest(new FileInfo(Path.Combine(RunVerbTests.RepoRoot(), "examples", "bon-finetune-tiny.json")));
        Assert.Empty(errors);
        var b = Binder.Bind(request!.Kind, request.Config);
        Assert.True(b.IsValid, string.Join("; ", b.ErrorLines));
        var config = (BonFineTuneRunConfig)b.Config!;
        Assert.Equal((2, 3, "cpu", 1), (config.Training.NPrime, config.Training.SamplesPerPrompt, config.Training.Device, config.Training.Threads));
    }
}
