// `bon-study`: the Best-of-N-aware fine-tuning study of issue #4 item 4 (methods.md §2.5) on MiniMath.
// From ONE base checkpoint: (optionally) train a reward model on the base model's own samples, fine-tune with every
// method × seed at a matched sample budget (same steps × prompts × n for all), then evaluate every final model and the
// base on the same test problems with testN samples each (same sampling seeds for every model), and report BoN@N and
// pass@N for N ∈ {1, 4, 16, 32}, diversity, and weights vs failure rate, with 95% intervals over seeds.
// Resumable: finished pieces (reward model, runs, evaluations) are found in out/ and reused.
// Usage: dotnet run -c Release --project bench/BonStudio.Bench -- bon-study base=<gpt checkpoint> out=<dir> [Key=Value ...]
// Keys: see StudyOptions below (case-insensitive).
using System.Globalization;
using System.Text;
using System.Text.Json;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Metrics;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using BonStudio.Training.Verifiers;
using static TorchSharp.torch;

namespace BonStudio.Bench;

/// <summary>The study's knobs. Defaults are the "default size" of docs/results-bon.md round 4: 7 methods × 3 seeds of
/// 100 steps × 32 prompts × n = 8 at lr 1e-5, 256 test prompts × 32, base = the default sft preset. Two shards (studies/bon/run.sh)
/// take about an hour on a 2-core CPU that does a step in 2.8 s, 1.6 h on the slower one of session 4 (4.3 s).</summary>
public sealed record StudyOptions
{
    /// <summary>Base "gpt" checkpoint; empty = train one here with SftRun (the default sft preset: the Base* knobs, other SftConfig defaults) into out/base.</summary>
    public string Base { get; init; } = "";
    public int BaseLayers { get; init; } = 4;
    public int BaseDim { get; init; } = 128;
    public int BaseSteps { get; init; } = 1500;
    /// <summary>Levels the base model is trained on (the default preset's 1-3); the study itself uses <see cref="Levels"/>.</summary>
    public string BaseLevels { get; init; } = "1,2,3";
    public string Out { get; init; } = "studies/bon/runs/default";
    public string Methods { get; init; } = "sft,rl,bon-sft,bon-rl-v,bon-rl-s,bon-rlb,bon-rlb-p";
    public int Seeds { get; init; } = 3;
    /// <summary>First seed this process runs (seeds FirstSeed..Seeds): several processes can share one out dir, one seed each.</summary>
    public int FirstSeed { get; init; } = 1;
    /// <summary>"i/k": this process takes every k-th (seed, method) run starting at i, so k processes share one out dir
    /// (one libtorch thread each: on a 2-core CPU two shards finish the study in half the time). Shard 0 also trains the
    /// reward model and evaluates the base; the others wait for the verifier choice.</summary>
    public string Shard { get; init; } = "0/1";
    /// <summary>Fine-tuning steps per run (matched budget: Steps × PromptsPerStep × N samples for every method).</summary>
    public int Steps { get; init; } = 100;
    public int PromptsPerStep { get; init; } = 32;
    public int N { get; init; } = 8;
    public int NPrime { get; init; } = 4;
    /// <summary>Constant AdamW rate. 1e-5 was chosen on the validation split (round 2: studies/bon/round2-pilot.md; checked at
    /// this budget in rounds 3 and 4); round 1's a-priori 1e-4 (the base run's final rate) made every RL-type method worse.</summary>
    public double LearningRate { get; init; } = 1e-5;
    public double KlCoefficient { get; init; } = 0.0;
    public double Temperature { get; init; } = 1.0;
    /// <summary>Most new tokens per sample; 0 = the longest reference completion of the study levels + 8 (+ EOS).</summary>
    public int MaxNewTokens { get; init; } = 0;
    /// <summary>MiniMath levels of the study (training prompts, test problems), mixed evenly.</summary>
    public string Levels { get; init; } = "2,3";
    /// <summary>oracle, noisy-oracle, reward-model (trained here on the base model's samples), or auto: train the reward
    /// model and use it if its held-out AUROC reaches RmMinAuroc, else the noisy oracle (the rule is fixed before any result).</summary>
    public string Verifier { get; init; } = "auto";
    /// <summary>auto: the held-out AUROC the reward model needs to be used (the ε = 0.1 noisy oracle's AUROC is 0.90).</summary>
    public double RmMinAuroc { get; init; } = 0.75;
    /// <summary>auto: fewer held-out positives than this and the AUROC says too little: the noisy oracle is used.</summary>
    public int RmMinHeldOutPositives { get; init; } = 30;
    public double Epsilon { get; init; } = 0.1;
    public int RmPrompts { get; init; } = 200;
    public int RmSamples { get; init; } = 8;
    public int RmSteps { get; init; } = 200;
    /// <summary>Evaluation problems (half level 2, half level 3 by default); 256 because 64 left most of the interval to prompt noise.</summary>
    public int TestProblems { get; init; } = 256;
    /// <summary>Split the models are scored on: test (the report) or validation (pilots that choose a setting; cached in out/evals-validation).</summary>
    public string EvalSplit { get; init; } = "test";
    public int TestN { get; init; } = 32;
    /// <summary>Temperatures at which the BASE model is also evaluated (prediction 4: best temperature vs N).</summary>
    public string BaseTemperatures { get; init; } = "0.7,1.0,1.3";
    public int Threads { get; init; } = 1;
    public string Device { get; init; } = "auto";
    /// <summary>Only summarise what out/ already holds (finished evaluations); train and evaluate nothing.</summary>
    public bool SummaryOnly { get; init; } = false;
}

public sealed class BonStudy : IBenchmark
{
    public string Name => "bon-study";
    public string Description => "BoN-aware fine-tuning study: bon-study base=<ckpt> out=<dir> [Seeds=3 Steps=40 Verifier=reward-model ...]";

    private static readonly int[] Ks = [1, 4, 16, 32];

    private sealed record PromptEval(string Id, int Level, double[] PassAtK, double[] BonAtK, double MeanReward, int Distinct, double Entropy);
    private sealed record ModelEval(string Model, double Temperature, int[] Ks, List<PromptEval> Prompts);

    public Task RunAsync(string[] args)
    {
        var o = Parse(args);
        Directory.CreateDirectory(o.Out);
        var device = TorchRuntime.ResolveDevice(o.Device);
        TorchRuntime.SetThreads(o.Threads);
        int[] levels = ParseLevels(o.Levels, nameof(o.Levels));
        var ks = Ks.Where(k => k <= o.TestN).ToArray();
        var log = new StreamWriter(Path.Combine(o.Out, "study.log"), append: true) { AutoFlush = true };
        void Say(string m) { var line = $"[{DateTime.UtcNow:HH:mm:ss}] {m}"; Console.WriteLine(line); log.WriteLine(line); }
        Say($"bon-study: {JsonSerializer.Serialize(o)}");
        if (o.EvalSplit is not ("test" or "validation"))
            throw new ArgumentException($"bon-study: EvalSplit '{o.EvalSplit}' is not test or validation.");
        var test = MiniMath.Generate(o.EvalSplit, o.TestProblems, levels, seed: 0);
        // Guard: a choice made on the validation split must never have seen a test problem.
        if (test.FirstOrDefault(p => MiniMath.SplitOfQuestion(p.Question) != o.EvalSplit) is { } wrong)
            throw new InvalidOperationException($"bon-study: problem '{wrong.Id}' is not in the {o.EvalSplit} split.");
        Say($"evaluation split: {o.EvalSplit} ({test.Count} problems, cached in {EvalDir(o)})");
        if (o.MaxNewTokens <= 0)
        {
            o = o with { MaxNewTokens = AutoMaxNewTokens(levels) };
            Say($"MaxNewTokens = {o.MaxNewTokens} (longest reference completion of levels {o.Levels} + 8)");
        }

        if (o.SummaryOnly)
        {
            var cached = SummaryFromCache(ResolveAutoVerifier(o, Say), ks);
            File.WriteAllText(Path.Combine(o.Out, "summary.md"), cached);
            Console.WriteLine(cached);
            return Task.CompletedTask;
        }

        // 0. Base model: given, or trained here with the `sft` run kind (resumable in out/base).
        var (shard, shards) = ParseShard(o.Shard);
        if (shards > 1 && string.IsNullOrEmpty(o.Base))
            throw new ArgumentException("bon-study: Shard needs base=<checkpoint>; without one, run a single process (it trains the base first).");
        if (string.IsNullOrEmpty(o.Base))
        {
            var sft = new SftConfig
            {
                Layers = o.BaseLayers, EmbeddingDim = o.BaseDim, Steps = o.BaseSteps, Levels = ParseLevels(o.BaseLevels, nameof(o.BaseLevels)),
                CheckpointEvery = 250, Threads = o.Threads, Device = o.Device, Seed = 1,
            };
            Say($"base: training with SftRun {JsonSerializer.Serialize(sft)}");
            var baseResult = SftRun.Execute(sft, Path.Combine(o.Out, "base"), new ConsoleReporter(output: TextWriter.Null));
            Say($"base: greedy test accuracy {baseResult.TestAccuracy:P1}, temperature-1 {baseResult.TestAccuracyTemperatureOne:P1}; {baseResult.FinalCheckpointPath}");
            o = o with { Base = baseResult.FinalCheckpointPath };
        }
        if (!File.Exists(o.Base)) throw new FileNotFoundException($"bon-study: base checkpoint '{o.Base}' does not exist (base=<path>).");

        // 1. Verifier. The reward model learns from the base model's own samples on training prompts.
        string rmPath = Path.Combine(Path.GetFullPath(o.Out), "rm", "reward-model.safetensors");
        if (o.Verifier is not ("auto" or "reward-model" or "oracle" or "noisy-oracle"))
            throw new ArgumentException($"bon-study: Verifier '{o.Verifier}' is not one of auto, reward-model, noisy-oracle, oracle.");
        if (shard == 0 && o.Verifier is "reward-model" or "auto" && !File.Exists(rmPath))
        {
            Say($"reward model: sampling {o.RmPrompts} train prompts × {o.RmSamples} from the base model");
            var (baseModel, meta) = Checkpoint.LoadGpt(o.Base, device);
            var tokenizer = TokenizerRegistry.Resolve(meta.Tokenizer);
            var rmProblems = MiniMath.Generate("train", o.RmPrompts, levels, seed: 977);
            var data = new List<RewardExample>();
            foreach (var (problem, texts) in SampleMany(baseModel, tokenizer, rmProblems, o.RmSamples, o.Temperature, o.MaxNewTokens, streamSeed: 977))
                data.AddRange(texts.Select(t => new RewardExample(problem.Id, MiniMath.Prompt(problem), t, MiniMath.IsCorrect(t, problem.Answer))));
            baseModel.Dispose();
            Say($"reward model: {data.Count} samples, {data.Average(d => d.Correct ? 1.0 : 0.0):P1} correct; training {o.RmSteps} steps");
            var rm = RewardModelRun.Execute(new RewardModelConfig { BaseCheckpoint = o.Base, Steps = o.RmSteps, Threads = o.Threads, Device = o.Device, EvalEvery = 0 },
                data, Path.Combine(o.Out, "rm"), new ConsoleReporter(output: TextWriter.Null));
            File.WriteAllText(Path.Combine(o.Out, "rm", "result.json"), JsonSerializer.Serialize(rm,
                new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            Say($"reward model: held-out AUROC {rm.HeldOutAuroc:F3}, accuracy {rm.HeldOutAccuracy:P1} (held-out positive rate {rm.HeldOutPositiveRate:P1})");
        }
        if (shard > 0 && o.Verifier is "reward-model" or "auto")
            WaitFor(Path.Combine(o.Out, "rm", "result.json"), "shard 0's reward model", Say);
        o = ResolveAutoVerifier(o, Say);
        IDisposableVerifier MakeVerifier() => BonFineTune.MakeVerifier(VerifierConfig(o, rmPath), device);

        // 2. Base model at several temperatures (prediction 4) and at the study temperature (the reference row).
        var evals = new Dictionary<string, List<ModelEval>>();
        var temperatures = o.BaseTemperatures.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).Append(o.Temperature).Distinct();
        foreach (var t in shard == 0 ? temperatures : [])
        {
            var eval = EvaluateCached(o, $"base@T{t.ToString(CultureInfo.InvariantCulture)}", o.Base, test, t, ks, MakeVerifier, device, Say);
            if (t == o.Temperature) evals["base"] = [eval];
        }

        // 3. Fine-tune every method × seed, then evaluate its final checkpoint.
        // Seed-major order: an interrupted study still has complete seeds for every method.
        foreach (var method in o.Methods.Split(',')) evals[method] = [];
        int runIndex = 0;
        for (int seed = o.FirstSeed; seed <= o.Seeds; seed++)
        {
            foreach (var method in o.Methods.Split(','))
            {
                if (runIndex++ % shards != shard) continue;
                var runDir = Path.Combine(o.Out, "runs", method, $"seed{seed}");
                var finalPath = Path.Combine(runDir, BonFineTune.CheckpointFolder, $"step-{o.Steps:D7}.safetensors");
                if (!File.Exists(finalPath))
                {
                    Say($"fine-tune {method} seed {seed}");
                    var reporter = new ConsoleReporter(output: TextWriter.Null);
                    var config = RunConfig(o, method, seed, levels, rmPath);
                    var result = Resuming(() => BonFineTune.Execute(config, o.Base, runDir, reporter), Say);
                    File.WriteAllText(Path.Combine(runDir, "metrics.csv"), "name,step,value\n" + string.Join("\n",
                        reporter.Metrics.GroupBy(m => (m.Name, m.Step)).Select(g => g.Last()).Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name},{m.Step},{m.Value:G6}"))));
                    Say($"  done in {result.TrainSeconds:F0} s: " + string.Join(", ", result.Validation.Select(kv => $"{kv.Key} {kv.Value:F3}")));
                }
                evals[method].Add(EvaluateCached(o, $"{method}-seed{seed}", finalPath, test, o.Temperature, ks, MakeVerifier, device, Say));
            }
        }

        // 4. Report (a shard reports what the shared out dir holds so far: complete once the last shard is done).
        var report = shards > 1 ? SummaryFromCache(o, ks) : Summarise(o, ks, evals);
        File.WriteAllText(Path.Combine(o.Out, "summary.md"), report);
        Console.WriteLine(report);
        Say("bon-study finished");
        return Task.CompletedTask;
    }

    private static BonFineTuneConfig VerifierConfig(StudyOptions o, string rmPath) => new()
    {
        Verifier = o.Verifier, NoiseEpsilon = o.Epsilon, RewardModelPath = o.Verifier == "reward-model" ? rmPath : "", Seed = 0,
    };

    private static BonFineTuneConfig RunConfig(StudyOptions o, string method, int seed, int[] levels, string rmPath) => new()
    {
        Method = method,
        NPrime = method is "sft" or "rl" ? 1 : o.NPrime,
        SamplesPerPrompt = o.N,
        Temperature = o.Temperature,
        MaxNewTokens = o.MaxNewTokens,
        Verifier = o.Verifier,
        NoiseEpsilon = o.Epsilon,
        RewardModelPath = o.Verifier == "reward-model" ? rmPath : "",
        LearningRate = o.LearningRate,
        KlCoefficient = o.KlCoefficient,
        Steps = o.Steps,
        PromptsPerStep = o.PromptsPerStep,
        Levels = levels,
        ValidationEvery = 0,          // validation once at the end (the test split is never used for choices)
        ValidationProblems = 24,
        ValidationSamples = 8,
        CheckpointEvery = Math.Max(1, o.Steps / 2),
        Seed = seed,                  // the same seed for every method: identical prompts per step across methods
        Threads = o.Threads,
        Device = o.Device,
    };

    /// <summary>The summary of the finished evaluations in out/evals (complete seeds only, so methods stay comparable).</summary>
    private static string SummaryFromCache(StudyOptions o, int[] ks)
    {
        var dir = EvalDir(o);
        ModelEval? Read(string name) => File.Exists(Path.Combine(dir, $"{name}.json"))
            ? JsonSerializer.Deserialize<ModelEval>(File.ReadAllText(Path.Combine(dir, $"{name}.json"))) : null;
        var methods = o.Methods.Split(',');
        int completeSeeds = 0;
        while (completeSeeds < o.Seeds && methods.All(m => Read($"{m}-seed{completeSeeds + 1}") is not null)) completeSeeds++;
        var evals = new Dictionary<string, List<ModelEval>>();
        if (Read($"base@T{o.Temperature.ToString(CultureInfo.InvariantCulture)}") is { } b) evals["base"] = [b];
        foreach (var m in methods)
        {
            var list = Enumerable.Range(1, Math.Max(1, completeSeeds)).Select(s => Read($"{m}-seed{s}")).Where(e => e is not null).Select(e => e!).ToList();
            if (list.Count > 0) evals[m] = list;
        }
        var note = completeSeeds < o.Seeds ? $"(partial: {completeSeeds} complete seed(s) of {o.Seeds})\n\n" : "";
        return note + Summarise(o with { Seeds = Math.Max(1, completeSeeds) }, ks, evals);
    }

    /// <summary>Evaluates one checkpoint on the test problems (n samples each), cached as JSON in out/evals.</summary>
    private static ModelEval EvaluateCached(StudyOptions o, string name, string checkpoint, IReadOnlyList<MathProblem> test, double temperature,
        int[] ks, Func<IDisposableVerifier> makeVerifier, Device device, Action<string> say)
    {
        var path = Path.Combine(EvalDir(o), $"{name}.json");
        if (File.Exists(path)) return JsonSerializer.Deserialize<ModelEval>(File.ReadAllText(path))!;
        say($"evaluate {name}: {test.Count} {o.EvalSplit} prompts × {o.TestN} at T={temperature}");
        var (model, meta) = Checkpoint.LoadGpt(checkpoint, device);
        var tokenizer = TokenizerRegistry.Resolve(meta.Tokenizer);
        using var verifier = makeVerifier();
        var prompts = new List<PromptEval>();
        var allKs = Enumerable.Range(1, o.TestN).ToArray();
        // Sampling seeds depend only on the prompt chunk: every model sees the same random numbers (less noise in differences).
        foreach (var (problem, texts) in SampleMany(model, tokenizer, test, o.TestN, temperature, o.MaxNewTokens, streamSeed: 4242))
        {
            var correct = texts.Select(t => MiniMath.IsCorrect(t, problem.Answer)).ToArray();
            var scores = verifier.Score(texts.Select((t, i) => new VerifierInput($"{problem.Id}@test", MiniMath.Prompt(problem), i, t, correct[i])).ToList());
            var (pass, bon) = BonFineTune.PromptCurves(correct, scores, allKs); // every k = 1..n, for the curves
            var (distinct, entropy) = BonFineTune.AnswerDiversity(texts);
            prompts.Add(new PromptEval(problem.Id, problem.Level, pass, bon, correct.Average(c => c ? 1.0 : 0.0), distinct, entropy));
        }
        model.Dispose();
        var eval = new ModelEval(name, temperature, allKs, prompts);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(eval));
        say($"  {name}: " + string.Join(", ", ks.Select(k => string.Create(CultureInfo.InvariantCulture,
            $"pass@{k} {prompts.Average(p => p.PassAtK[k - 1]):F3} BoN@{k} {prompts.Average(p => p.BonAtK[k - 1]):F3}"))));
        return eval;
    }

    /// <summary>n samples per problem, several problems per batched sampler call (KV cache), deterministic per chunk.</summary>
    private static IEnumerable<(MathProblem Problem, string[] Texts)> SampleMany(Gpt model, ITokenizer tokenizer, IReadOnlyList<MathProblem> problems,
        int n, double temperature, int maxNewTokens, long streamSeed)
    {
        var sampler = new Sampler(model, tokenizer);
        int perChunk = Math.Max(1, 128 / n);
        for (int start = 0, chunk = 0; start < problems.Count; start += perChunk, chunk++)
        {
            var batch = problems.Skip(start).Take(perChunk).ToList();
            var rows = batch.SelectMany(p => Enumerable.Repeat(Sampler.EncodePrompt(tokenizer, MiniMath.Prompt(p)), n)).ToList();
            var results = sampler.Sample(rows, new SamplingOptions
            {
                Temperature = temperature, MaxNewTokens = maxNewTokens, Seed = BonFineTune.StepSeed(streamSeed, chunk, 9),
            });
            for (int b = 0; b < batch.Count; b++)
                yield return (batch[b], results.Skip(b * n).Take(n).Select(r => r.Text ?? tokenizer.Decode(r.TokenIds)).ToArray());
        }
    }

    // ---- summary ---------------------------------------------------------------------------------------------

    /// <summary>Mean and 95% half-width (Student t, the metrics module's MeanInterval) of values; NaN half-width for one value.</summary>
    private static (double Mean, double Half) Interval(IReadOnlyList<double> v)
    {
        var m = MeanInterval.Of(v);
        return (m.Mean, m.HalfWidth ?? double.NaN);
    }

    private static string Fmt((double Mean, double Half) x) =>
        double.IsNaN(x.Half) ? x.Mean.ToString("F3", CultureInfo.InvariantCulture)
                             : string.Create(CultureInfo.InvariantCulture, $"{x.Mean:F3} ± {x.Half:F3}");

    private static string Summarise(StudyOptions o, int[] ks, Dictionary<string, List<ModelEval>> evals)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(string.Create(inv, $"## bon-study: {o.Seeds} seeds, {o.Steps} steps × {o.PromptsPerStep} prompts × n={o.N} (N'={o.NPrime}), verifier {o.Verifier}, T={o.Temperature}, {o.EvalSplit} {o.TestProblems} prompts × {o.TestN}"));
        sb.AppendLine();
        sb.AppendLine($"Mean over seeds of the {o.EvalSplit}-set mean; ± is the 95% Student-t half-width over seeds (base: over prompts).");
        sb.AppendLine();
        void MainTable(Func<PromptEval, bool> include, bool diversity)
        {
            sb.Append("| model |"); foreach (var k in ks) sb.Append($" BoN@{k} |"); foreach (var k in ks) sb.Append($" pass@{k} |");
            sb.AppendLine(diversity ? " distinct answers | answer entropy |" : "");
            sb.Append("|---|"); foreach (var _ in ks) sb.Append("---|---|"); sb.AppendLine(diversity ? "---|---|" : "");
            foreach (var (name, list) in evals)
            {
                bool isBase = name == "base";
                (double, double) Stat(Func<PromptEval, double> perPrompt) =>
                    isBase ? Interval(list[0].Prompts.Where(include).Select(perPrompt).ToList())
                           : Interval(list.Select(e => e.Prompts.Where(include).Average(perPrompt)).ToList());
                sb.Append($"| {name} |");
                for (int j = 0; j < ks.Length; j++) { int k = ks[j]; sb.Append($" {Fmt(Stat(p => p.BonAtK[k - 1]))} |"); }
                for (int j = 0; j < ks.Length; j++) { int k = ks[j]; sb.Append($" {Fmt(Stat(p => p.PassAtK[k - 1]))} |"); }
                if (diversity) sb.Append($" {Fmt(Stat(p => p.Distinct))} | {Fmt(Stat(p => p.Entropy))} |");
                sb.AppendLine();
            }
        }
        MainTable(_ => true, diversity: true);
        var testLevels = evals.Values.First()[0].Prompts.Select(p => p.Level).Distinct().Order().ToList();
        if (testLevels.Count > 1)
            foreach (var level in testLevels)
            {
                sb.AppendLine();
                sb.AppendLine($"Level {level} only ({evals.Values.First()[0].Prompts.Count(p => p.Level == level)} {o.EvalSplit} prompts):");
                sb.AppendLine();
                MainTable(p => p.Level == level, diversity: true);
            }

        // Paired differences (same seed = same training prompts and test sampling seeds) against the N'=1 baselines, twice:
        // ± over seeds (training randomness: the verdicts use this one) and ± over test prompts (the per-prompt difference
        // averaged over seeds: how much the 256 test prompts alone leave open).
        foreach (var baseline in new[] { "rl", "sft" }.Where(evals.ContainsKey))
            foreach (var overSeeds in new[] { true, false })
            {
                sb.AppendLine();
                sb.AppendLine(overSeeds ? $"Paired difference vs `{baseline}` (same seed), mean ± 95% half-width over seeds:"
                                        : $"The same differences, ± 95% half-width over {o.EvalSplit} prompts (each prompt's difference averaged over seeds):");
                sb.AppendLine();
                sb.Append("| method |"); foreach (var k in ks.Where(k => k >= 4)) sb.Append($" ΔBoN@{k} |"); foreach (var k in ks.Where(k => k >= 4)) sb.Append($" Δpass@{k} |"); sb.AppendLine();
                sb.Append("|---|"); foreach (var _ in ks.Where(k => k >= 4)) sb.Append("---|---|"); sb.AppendLine();
                foreach (var (name, list) in evals.Where(e => e.Key != "base" && e.Key != baseline))
                {
                    int seeds = Math.Min(list.Count, evals[baseline].Count), prompts = list[0].Prompts.Count;
                    sb.Append($"| {name} |");
                    foreach (var pick in new Func<PromptEval, int, double>[] { (p, j) => p.BonAtK[ks[j] - 1], (p, j) => p.PassAtK[ks[j] - 1] })
                        for (int j = 0; j < ks.Length; j++)
                        {
                            if (ks[j] < 4) continue;
                            double Diff(int s, int p) => pick(list[s].Prompts[p], j) - pick(evals[baseline][s].Prompts[p], j);
                            var d = overSeeds
                                ? Enumerable.Range(0, seeds).Select(s => Enumerable.Range(0, prompts).Average(p => Diff(s, p))).ToList()
                                : Enumerable.Range(0, prompts).Select(p => Enumerable.Range(0, seeds).Average(s => Diff(s, p))).ToList();
                            sb.Append($" {Fmt(Interval(d))} |");
                        }
                    sb.AppendLine();
                }
            }

        // Base model at several temperatures: which temperature is best for each N?
        var tempEvals = Directory.Exists(EvalDir(o))
            ? Directory.GetFiles(EvalDir(o), "base@T*.json").Select(f => JsonSerializer.Deserialize<ModelEval>(File.ReadAllText(f))!).OrderBy(e => e.Temperature).ToList()
            : [];
        if (tempEvals.Count > 1)
        {
            sb.AppendLine();
            sb.AppendLine($"Base model by sampling temperature (mean over {o.EvalSplit} prompts; best per column in bold):");
            sb.AppendLine();
            sb.Append("| T |"); foreach (var k in ks) sb.Append($" BoN@{k} |"); foreach (var k in ks) sb.Append($" pass@{k} |"); sb.AppendLine();
            sb.Append("|---|"); foreach (var _ in ks) sb.Append("---|---|"); sb.AppendLine();
            var bonBest = ks.Select((_, j) => tempEvals.Max(e => e.Prompts.Average(p => p.BonAtK[ks[j] - 1]))).ToArray();
            var passBest = ks.Select((_, j) => tempEvals.Max(e => e.Prompts.Average(p => p.PassAtK[ks[j] - 1]))).ToArray();
            foreach (var e in tempEvals)
            {
                sb.Append(string.Create(inv, $"| {e.Temperature} |"));
                for (int j = 0; j < ks.Length; j++) { double v = e.Prompts.Average(p => p.BonAtK[ks[j] - 1]); sb.Append(v == bonBest[j] ? $" **{v:F3}** |" : $" {v:F3} |"); }
                for (int j = 0; j < ks.Length; j++) { double v = e.Prompts.Average(p => p.PassAtK[ks[j] - 1]); sb.Append(v == passBest[j] ? $" **{v:F3}** |" : $" {v:F3} |"); }
                sb.AppendLine();
            }
        }

        // Where the weight goes: mean Σ_j |a_j| per prompt by failure-rate bin (pooled over steps and seeds).
        sb.AppendLine();
        sb.AppendLine("Weight mass by prompt failure rate p̂ = 1 − c/n during training (mean Σ|a_j| per prompt, prompts with at least one correct sample; pooled over steps and seeds):");
        sb.AppendLine();
        sb.AppendLine("| method | p̂∈[0,.2) | [.2,.4) | [.4,.6) | [.6,.8) | [.8,1) | share of prompts with p̂ = 1 (no correct sample) |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var method in o.Methods.Split(','))
        {
            var rows = Enumerable.Range(1, o.Seeds).Select(s => Path.Combine(o.Out, "runs", method, $"seed{s}", "weights_vs_failure.csv"))
                .Where(File.Exists).SelectMany(f => File.ReadLines(f).Skip(1))
                .Select(l => l.Split(',')).Select(f => (P: double.Parse(f[3], inv), Abs: double.Parse(f[5], inv))).ToList();
            if (rows.Count == 0) continue;
            sb.Append($"| {method} |");
            for (int b = 0; b < 5; b++)
            {
                var inBin = rows.Where(r => r.P < 1.0 && BonFineTune.FailureBin(r.P) == b).ToList(); // p̂ = 1 has no signal: own column
                sb.Append(inBin.Count == 0 ? " – |" : string.Create(inv, $" {inBin.Average(r => r.Abs):F4} (n={inBin.Count}) |"));
            }
            sb.AppendLine(string.Create(inv, $" {rows.Count(r => r.P == 1.0) / (double)rows.Count:P0} |"));
        }
        return sb.ToString();
    }

    /// <summary>Verifier = auto: the reward model if its held-out AUROC (out/rm/result.json) reaches RmMinAuroc, else the noisy oracle.</summary>
    private static StudyOptions ResolveAutoVerifier(StudyOptions o, Action<string> say)
    {
        var resultPath = Path.Combine(o.Out, "rm", "result.json");
        if (o.Verifier != "auto" || !File.Exists(resultPath)) return o;
        using var rmResult = JsonDocument.Parse(File.ReadAllText(resultPath));
        double auroc = rmResult.RootElement.GetProperty(nameof(RewardModelResult.HeldOutAuroc)).GetDouble();
        int positives = (int)Math.Round(rmResult.RootElement.GetProperty(nameof(RewardModelResult.HeldOutExamples)).GetInt32()
            * rmResult.RootElement.GetProperty(nameof(RewardModelResult.HeldOutPositiveRate)).GetDouble());
        bool decent = auroc >= o.RmMinAuroc && positives >= o.RmMinHeldOutPositives;
        var chosen = decent ? "reward-model" : "noisy-oracle";
        say(string.Create(CultureInfo.InvariantCulture,
            $"verifier (auto): reward model held-out AUROC {auroc:F3} (need ≥ {o.RmMinAuroc}) on {positives} held-out positives (need ≥ {o.RmMinHeldOutPositives}) ⇒ {chosen}"));
        return o with { Verifier = chosen };
    }

    /// <summary>Runs a resumable trainer, resuming it in place (newest checkpoint) after TorchSharp's premature Scalar free.</summary>
    private static T Resuming<T>(Func<T> train, Action<string> say)
    {
        for (int attempt = 1; ; attempt++)
            try { return train(); }
            catch (Exception e) when (attempt < 5 && TorchRuntime.IsPrematureScalarFree(e))
            {
                say($"  {e.Message.Split('\n')[0]} (TorchSharp's premature Scalar free): resuming from the newest checkpoint");
            }
    }

    /// <summary>"1/2" → (1, 2); a clear error for anything else.</summary>
    private static (int Index, int Count) ParseShard(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int i) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int k)
            && k >= 1 && i >= 0 && i < k) return (i, k);
        throw new ArgumentException($"bon-study: Shard '{text}' is not i/k with 0 ≤ i < k (e.g. 0/2 and 1/2 for two processes).");
    }

    private static void WaitFor(string path, string what, Action<string> say)
    {
        if (File.Exists(path)) return;
        say($"waiting for {what} ({path})");
        while (!File.Exists(path)) Thread.Sleep(TimeSpan.FromSeconds(5));
    }

    /// <summary>"2,3" → [2, 3]; a clear error naming the key for anything that is not a list of MiniMath levels.</summary>
    public static int[] ParseLevels(string text, string key)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ArgumentException($"bon-study: {key} is empty; give MiniMath levels like 2,3.");
        var levels = parts.Select(x => int.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var l) && MiniMath.Levels.Contains(l) ? l
            : throw new ArgumentException($"bon-study: {key}: '{x}' is not a MiniMath level (1..5).")).ToArray();
        if (levels.Distinct().Count() != levels.Length) throw new ArgumentException($"bon-study: {key}: each level may appear once ('{text}').");
        return levels;
    }

    /// <summary>The longest reference completion (characters = char-tokenizer tokens) over 2 000 train and 500 test problems
    /// of <paramref name="levels"/>, plus 8: samples stop at EOS, so the cap only bounds run-away samples.</summary>
    public static int AutoMaxNewTokens(int[] levels) =>
        MiniMath.Generate("train", 2000, levels, seed: 1).Concat(MiniMath.Generate("test", 500, levels, seed: 0))
            .Max(p => MiniMath.Completion(p).Length) + 8;

    /// <summary>Cached evaluations: out/evals for the test split, out/evals-validation for the validation split (never mixed).</summary>
    private static string EvalDir(StudyOptions o) => Path.Combine(o.Out, o.EvalSplit == "test" ? "evals" : "evals-validation");

    private static StudyOptions Parse(string[] args)
    {
        object o = new StudyOptions();
        foreach (var arg in args)
        {
            int eq = arg.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"bon-study: argument '{arg}' is not Key=Value.");
            string key = arg[..eq], value = arg[(eq + 1)..];
            var prop = typeof(StudyOptions).GetProperties().FirstOrDefault(p => p.Name.Equals(key, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"bon-study: unknown key '{key}'; keys: {string.Join(", ", typeof(StudyOptions).GetProperties().Select(p => p.Name))}.");
            prop.SetValue(o, Convert.ChangeType(value, prop.PropertyType, CultureInfo.InvariantCulture));
        }
        return (StudyOptions)o;
    }
}
