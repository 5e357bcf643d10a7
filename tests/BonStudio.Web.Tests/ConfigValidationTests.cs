// One description validates everywhere: these check the binder the form, the API and `run` share.
using System.Text.Json.Nodes;
using BonStudio.Web.RunKinds;

namespace BonStudio.Web.Tests;

public class ConfigValidationTests
{
    private static readonly RunConfigBinder Binder = new(new RunKindRegistry(RunKindRegistry.DiscoverTypes().Select(t => (IRunKind)Activator.CreateInstance(t)!)));

    [Fact]
    public void UnknownKindIsRefusedNamingTheKindField()
    {
        var b = Binder.Bind("no-such-kind", new JsonObject());
        Assert.False(b.IsValid);
        Assert.Contains("no-such-kind", Assert.Single(b.Errors["kind"]));
    }

    [Fact]
    public void MissingKindAndMissingConfigAreRefused()
    {
        Assert.Contains("kind", Binder.Bind(null, new JsonObject()).Errors.Keys);
        var noConfig = Binder.Bind("rl", null);
        Assert.Contains("required", Assert.Single(noConfig.Errors["config"]));
    }

    [Fact]
    public void NegativeStepsUnknownFieldWrongTypeAndNullRequiredAreEachNamed()
    {
        var config = TinyRuns.RlConfig();
        config["budgetSteps"] = -5;
        config["learningRat"] = 0.1;
        config["hidden"] = "wide";
        config["env"] = null;
        var b = Binder.Bind("rl", config);

        Assert.False(b.IsValid);
        Assert.Contains("budgetSteps", Assert.Single(b.Errors["config.budgetSteps"]));
        Assert.Contains("learningRat", Assert.Single(b.Errors["config.learningRat"]));
        Assert.Contains("hidden", Assert.Single(b.Errors["config.hidden"]));
        Assert.Contains("The env field is required.", b.Errors["config.env"]);
        Assert.All(b.ErrorLines, line => Assert.StartsWith("config.", line));
    }

    [Fact]
    public void CrossFieldRulesOfTheKindAreReported()
    {
        var config = TinyRuns.RlConfig();
        config["agent"] = "ddqn";
        config["uncertainty"] = "ensemble"; // needs bootddqn when UFLP is on
        var b = Binder.Bind("rl", config);
        Assert.False(b.IsValid);
        Assert.Contains("ensemble", string.Join(" ", b.Errors["config"]));
    }

    [Fact]
    public void CanonicalJsonAndHashesIgnoreKeyOrderAndDefaultsAndSeedlessHashGroupsSeeds()
    {
        var a = Binder.Bind("rl", JsonNode.Parse("""{"seed": 1, "envSize": 6}""")!);
        var b = Binder.Bind("rl", JsonNode.Parse("""{"envSize": 6, "seed": 1, "env": "deepsea"}""")!);
        var otherSeed = Binder.Bind("rl", JsonNode.Parse("""{"envSize": 6, "seed": 2}""")!);
        var otherSize = Binder.Bind("rl", JsonNode.Parse("""{"envSize": 7, "seed": 1}""")!);

        Assert.True(a.IsValid && b.IsValid && otherSeed.IsValid && otherSize.IsValid);
        Assert.Equal(a.CanonicalJson, b.CanonicalJson);
        Assert.Equal(a.ConfigHash, b.ConfigHash);
        Assert.Matches("^[0-9a-f]{64}$", a.ConfigHash!);
        Assert.NotEqual(a.ConfigHash, otherSeed.ConfigHash);
        Assert.Equal(a.ConfigHashWithoutSeed, otherSeed.ConfigHashWithoutSeed);
        Assert.NotEqual(a.ConfigHashWithoutSeed, otherSize.ConfigHashWithoutSeed);
        // Keys are sorted, so the canonical text starts with the alphabetically first parameter.
        Assert.StartsWith("{\"agent\":", a.CanonicalJson);
    }

    [Fact]
    public void SchemaDescribesEveryParameterWithLabelHelpTypeAndRange()
    {
        var fields = ConfigSchema.Fields(typeof(BonStudio.Training.RL.RlConfig));
        var envSize = Assert.Single(fields, f => f.JsonName == "envSize");
        Assert.Equal(ConfigFieldType.Integer, envSize.Type);
        Assert.Equal(2, envSize.Minimum);
        Assert.Equal(200, envSize.Maximum);
        Assert.False(string.IsNullOrWhiteSpace(envSize.Help));
        var env = Assert.Single(fields, f => f.JsonName == "env");
        Assert.Equal(ConfigFieldType.Choice, env.Type);
        Assert.Contains("deepsea", env.Choices!);
        var uflp = Assert.Single(fields, f => f.JsonName == "uflp");
        Assert.Equal(ConfigFieldType.Boolean, uflp.Type);
        Assert.Null(uflp.Minimum); // [Range(typeof(bool), ...)] is not a numeric range
    }
}

public class RunKindCatalogTests
{
    [Fact]
    public void EveryKindsDefaultPresetIsValidAndEveryParameterHasAFormField()
    {
        var kinds = new RunKindRegistry(RunKindRegistry.DiscoverTypes().Select(t => (IRunKind)Activator.CreateInstance(t)!));
        var binder = new RunConfigBinder(kinds);
        Assert.Contains(kinds.All, k => k.Name == "sft");
        foreach (var kind in kinds.All)
        {
            var preset = RunConfigBinder.ToJsonObject(kind.CreateDefaultConfig());
            var bound = binder.Bind(kind.Name, preset);
            Assert.True(bound.IsValid, $"{kind.Name}: {string.Join("; ", bound.ErrorLines)}");
            Assert.Equal(binder.Bind(kind.Name, new JsonObject()).CanonicalJson, bound.CanonicalJson);
            // The generated form can edit every parameter the config has (nothing silently left at its default).
            Assert.Equal(preset.Select(p => p.Key).Order(), ConfigSchema.Fields(kind.ConfigType).Select(f => f.JsonName).Order());
            Assert.All(ConfigSchema.Fields(kind.ConfigType), f => Assert.False(string.IsNullOrWhiteSpace(f.Help), $"{kind.Name}.{f.JsonName} has no help text"));
        }
    }
}

public class CommandLineDispatchTests
{
    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "serve" }, true)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:5001" }, true)]
    [InlineData(new[] { "--data-dir", "/tmp/x", "serve" }, true)]
    [InlineData(new[] { "run", "examples/sft-tiny.json" }, false)]
    [InlineData(new[] { "--data-dir", "/tmp/x", "run", "examples/sft-tiny.json" }, false)]
    [InlineData(new[] { "--data-dir=/tmp/x", "runs", "list" }, false)]
    [InlineData(new[] { "--help" }, false)]
    public void The_first_verb_decides_between_serving_and_running_a_command(string[] args, bool serve)
    {
        Assert.Equal(serve, BonStudio.Web.Cli.BonStudioCli.IsServe(args));
    }

    [Fact]
    public void The_serve_verb_is_not_passed_to_the_web_host()
    {
        Assert.Equal(["--data-dir", "/tmp/x", "--urls", "u"], BonStudio.Web.Cli.BonStudioCli.ServeArgs(["--data-dir", "/tmp/x", "serve", "--urls", "u"]));
    }
}
