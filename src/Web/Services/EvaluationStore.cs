// Storage side of Best-of-N evaluations: resolves a bon-eval's inputs (model file, imported problems) and writes
// what BonEvaluation produces as SampleSet/Sample/Score rows in batches, one transaction per batch. Exactly once:
// (run, temperature, prompt key) is unique, and a resumed run asks StoredSets() which sets to skip.
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Evaluation;
using BonStudio.Training.Verifiers;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

public sealed class EvaluationStore(IDbContextFactory<BonStudioDb> dbFactory)
{
    /// <summary>The checkpoint path of model <paramref name="modelId"/>; a clear error when the row or the file is missing.</summary>
    public (string Path, string Name) ModelPath(int modelId)
    {
        using var db = dbFactory.CreateDbContext();
        var model = db.Models.AsNoTracking().FirstOrDefault(m => m.Id == modelId)
            ?? throw new ArgumentException($"modelId: model {modelId} does not exist (see the Models page or GET /api/models).");
        if (!File.Exists(model.Path) && !Directory.Exists(model.Path))
            throw new FileNotFoundException($"modelId: the checkpoint of model {modelId} ('{model.Name}') is missing at {model.Path}.", model.Path);
        return (model.Path, model.Name);
    }

    /// <summary>The run that trained model <paramref name="modelId"/>, if any (recorded on learned-verifier layers).</summary>
    public int? ProducedByRun(int modelId)
    {
        using var db = dbFactory.CreateDbContext();
        return db.Models.AsNoTracking().Where(m => m.Id == modelId).Select(m => m.ProducedByRunId).FirstOrDefault();
    }

    /// <summary>Records which model an evaluation measured (Run.ModelId), for the runs table and the compare views.</summary>
    public void SetRunModel(int runId, int modelId)
    {
        using var db = dbFactory.CreateDbContext();
        db.Runs.Where(r => r.Id == runId).ExecuteUpdate(s => s.SetProperty(r => r.ModelId, modelId));
    }

    /// <summary>The suite (answer format) and the first <paramref name="count"/> problems of an imported data set.</summary>
    public (string Suite, List<Problem> Problems) DatasetProblems(int datasetId, int count)
    {
        using var db = dbFactory.CreateDbContext();
        var dataset = db.Datasets.AsNoTracking().FirstOrDefault(d => d.Id == datasetId)
            ?? throw new ArgumentException($"datasetId: data set {datasetId} does not exist (import one with `import dataset` or POST /api/imports/datasets).");
        var problems = db.Problems.AsNoTracking().Where(p => p.DatasetId == datasetId).OrderBy(p => p.Id).Take(count).ToList();
        if (problems.Count == 0) throw new ArgumentException($"datasetId: data set {datasetId} ('{dataset.Name}') has no problems.");
        return (dataset.Suite, problems);
    }

    /// <summary>Every stored sample of evaluation <paramref name="runId"/> labelled by the checker (unknown verdicts skipped),
    /// and the model it evaluated: the training data of a `verifier` run.</summary>
    public (List<RewardExample> Examples, int? ModelId) RewardExamples(int runId)
    {
        using var db = dbFactory.CreateDbContext();
        var run = db.Runs.AsNoTracking().FirstOrDefault(r => r.Id == runId && r.Kind == "bon-eval")
            ?? throw new ArgumentException($"evaluationRunId: run {runId} is not a bon-eval evaluation.");
        var rows = (from x in db.Samples
                    join s in db.SampleSets on x.SampleSetId equals s.Id
                    where s.RunId == runId && x.Correct != null
                    orderby s.Id, x.Index
                    select new { s.PromptKey, s.PromptText, x.Text, x.Correct }).AsNoTracking().ToList();
        if (rows.Count == 0) throw new ArgumentException($"evaluationRunId: evaluation {runId} has no graded samples.");
        return (rows.Select(r => new RewardExample(r.PromptKey, r.PromptText, r.Text, r.Correct == true)).ToList(), run.ModelId);
    }

    /// <summary>Opens a sink for run <paramref name="runId"/>, creating the score layers it will fill (once).</summary>
    public EvaluationSampleSink OpenSink(int runId, IReadOnlyList<(string Verifier, int? VerifierRunId)> verifiers, int batchSize = 16)
    {
        using var db = dbFactory.CreateDbContext();
        var layers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, verifierRunId) in verifiers)
        {
            var layer = db.ScoreLayers.FirstOrDefault(l => l.RunId == runId && l.Verifier == name);
            if (layer is null)
            {
                layer = new ScoreLayer { RunId = runId, Verifier = name, VerifierRunId = verifierRunId };
                db.ScoreLayers.Add(layer);
                db.SaveChanges();
            }
            layers[name] = layer.Id;
        }
        return new EvaluationSampleSink(dbFactory, runId, layers, batchSize);
    }
}

/// <summary>ISampleSink that buffers sample sets and writes each batch in one transaction.</summary>
public sealed class EvaluationSampleSink : ISampleSink, IDisposable
{
    private readonly IDbContextFactory<BonStudioDb> _dbFactory;
    private readonly int _runId;
    private readonly IReadOnlyDictionary<string, int> _layers;
    private readonly int _batchSize;
    private readonly List<EvaluatedPrompt> _buffer = [];

    public EvaluationSampleSink(IDbContextFactory<BonStudioDb> dbFactory, int runId, IReadOnlyDictionary<string, int> layers, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _dbFactory = dbFactory; _runId = runId; _layers = layers; _batchSize = batchSize;
    }

    /// <summary>Sample sets stored so far, as (prompt key, temperature): a resumed run skips them.</summary>
    public HashSet<(string Key, double Temperature)> StoredSets()
    {
        using var db = _dbFactory.CreateDbContext();
        return db.SampleSets.AsNoTracking().Where(s => s.RunId == _runId).Select(s => new { s.PromptKey, s.Temperature })
            .AsEnumerable().Select(s => (s.PromptKey, s.Temperature)).ToHashSet();
    }

    public int Written { get; private set; }

    public void Write(EvaluatedPrompt prompt)
    {
        _buffer.Add(prompt);
        if (_buffer.Count >= _batchSize) Flush();
    }

    public void Flush()
    {
        if (_buffer.Count == 0) return;
        using var db = _dbFactory.CreateDbContext();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        using var tx = db.Database.BeginTransaction();
        foreach (var p in _buffer) db.SampleSets.Add(ToRow(p));
        db.ChangeTracker.DetectChanges();
        db.SaveChanges();
        tx.Commit();
        Written += _buffer.Count;
        _buffer.Clear();
    }

    private SampleSet ToRow(EvaluatedPrompt p) => new()
    {
        RunId = _runId,
        PromptKey = p.Problem.Key,
        PromptText = p.Problem.Prompt,
        ReferenceAnswer = p.Problem.Reference,
        Difficulty = p.Problem.Difficulty,
        Temperature = p.Temperature,
        N = p.Samples.Count,
        CorrectCount = p.Samples.Count(s => s.Correct),
        Samples = p.Samples.Select(s => new Sample
        {
            Index = s.Index,
            Text = s.Text,
            ExtractedAnswer = s.Extracted,
            Correct = s.Correct,
            VerdictReason = p.Problem.CheckReturnsVerdict ? s.Extracted : null,
            TokenCount = s.TokenCount,
            LogProb = double.IsFinite(s.LogProb) ? s.LogProb : null,
            Scores = s.Scores.Where(kv => _layers.ContainsKey(kv.Key) && double.IsFinite(kv.Value))
                .Select(kv => new Score { ScoreLayerId = _layers[kv.Key], Value = kv.Value }).ToList(),
        }).ToList(),
    };

    /// <summary>Disposing does not flush: a cancelled run keeps only whole, committed batches.</summary>
    public void Dispose() => _buffer.Clear();
}
