// `rescore <evaluation run id> --verifier oracle|noisy-oracle|reward-model [--epsilon] [--seed] [--model-id ID [--model-id ID ...]]`:
// adds a score layer for another verifier to a stored evaluation (same service as POST /api/evaluations/{id}/rescore);
// nothing is re-sampled. Prints the new layer and BoN@n under it.
using System.CommandLine;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.Cli;

public static class RescoreCommand
{
    public static Command Create()
    {
        var run = new Argument<int>("run-id") { Description = "The evaluation (bon-eval run or imported samples) to re-score" };
        var verifier = new Option<string>("--verifier") { Description = "oracle, noisy-oracle or reward-model", Required = true };
        verifier.AcceptOnlyFromAmong("oracle", "noisy-oracle", "reward-model");
        var epsilon = new Option<double>("--epsilon") { Description = "Flip probability of the noisy oracle", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<long>("--seed") { Description = "Seed of the noisy oracle", DefaultValueFactory = _ => 0 };
        var modelId = new Option<int[]>("--model-id") { Description = "Model id of the reward model (a `verifier` run's checkpoint); give it more than once for an ensemble (mean logit)", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("rescore", "Add a score layer for another verifier to a stored evaluation; samples are never regenerated.") { run, verifier, epsilon, seed, modelId };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            using var host = BonStudioCli.BuildCliHost(parse);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            var evaluations = host.Services.GetRequiredService<EvaluationService>();
            try
            {
                int id = parse.GetValue(run);
                int[] ids = parse.GetValue(modelId) ?? [];
                var result = await evaluations.RescoreAsync(id, new RescoreRequest(parse.GetValue(verifier)!, parse.GetValue(epsilon), parse.GetValue(seed),
                    ids.FirstOrDefault(), ids.Length > 1 ? ids[1..] : null), null, ct);
                output.WriteLine($"evaluation {result.RunId}: layer {result.LayerId} '{result.Verifier}' scored {result.Scored} samples");
                var summary = await evaluations.GetAsync(id, ct);
                foreach (var t in summary!.Temperatures)
                {
                    var curves = await evaluations.CurvesAsync(id, t, ct);
                    var bon = curves.BonAtK.First(v => v.Verifier == result.Verifier).BonAtK.Mean;
                    output.WriteLine($"  T={t}: pass@1 {curves.PassAtK.Mean[0]:F4}  pass@{curves.N} {curves.PassAtK.Mean[^1]:F4}  BoN@{curves.N}({result.Verifier}) {bon[^1]:F4}  maj@{curves.N} {curves.MajAtK.Mean[^1]:F4}");
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or EvaluationNotFoundException or FileNotFoundException or InvalidDataException)
            {
                error.WriteLine($"rescore: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }
}
