// Re-scoring writes a layer all-or-nothing and holds no SQLite write lock while a (slow) learned verifier scores:
// the lock used to be held for the whole scoring, and a run starting next to a long rescore failed with
// "database is locked".
using BonStudio.Data.Entities;
using BonStudio.Training.Verifiers;
using BonStudio.Web.Services;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests.Evaluation;

public class RescoreTests
{
    /// <summary>A stored bon-eval of 3 prompts × 2 samples (written directly: re-scoring needs no model).</summary>
    private static int SeedEvaluation(EvalApp app)
    {
        using var db = app.Db();
        var run = new Run { Kind = "bon-eval", Name = "stored eval", ConfigJson = "{}", ConfigHash = "h", GroupHash = "g", Status = RunStatus.Succeeded };
        db.Runs.Add(run);
        db.SaveChanges();
        for (int p = 0; p < 3; p++)
            db.SampleSets.Add(new SampleSet
            {
                RunId = run.Id, PromptKey = $"p{p}", PromptText = $"question {p}\nA: ", Temperature = 1, N = 2, CorrectCount = 1,
                Samples = [new Sample { Index = 0, Text = "1+1=2 #### 2", Correct = true }, new Sample { Index = 1, Text = "1+1=3 #### 3", Correct = false }],
            });
        db.SaveChanges();
        return run.Id;
    }

    /// <summary>Scores by response length; calls <paramref name="during"/> with the number of prompts scored so far.</summary>
    private sealed class ProbeVerifier(Action<int> during) : IVerifier
    {
        private int _calls;
        public string Name => "reward-model#99";
        public double[] Score(IReadOnlyList<VerifierInput> samples)
        {
            during(_calls++);
            return samples.Select(s => (double)s.Response.Length).ToArray();
        }
    }

    [Fact]
    public async Task A_failing_rescore_leaves_no_layer_and_no_scores()
    {
        // Arrange
        using var app = new EvalApp();
        int runId = SeedEvaluation(app);
        var service = app.Services.GetRequiredService<EvaluationService>();

        // Act: the verifier fails on the third prompt, after two prompts were scored.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => service.RescoreAsync(runId, new RescoreRequest("reward-model", ModelId: 99),
            _ => new ProbeVerifier(i => { if (i == 2) throw new InvalidOperationException("verifier crashed"); })));

        // Assert: nothing of the layer is visible; a retry then succeeds with every sample scored.
        Assert.Equal("verifier crashed", error.Message);
        using (var db = app.Db())
        {
            Assert.False(await db.ScoreLayers.AnyAsync(l => l.RunId == runId && l.Verifier == "reward-model#99"));
            Assert.Equal(0, await db.Scores.CountAsync());
        }
        var result = await service.RescoreAsync(runId, new RescoreRequest("reward-model", ModelId: 99), _ => new ProbeVerifier(_ => { }));
        Assert.Equal(6, result.Scored);
        using (var db = app.Db())
            Assert.Equal(6, await db.Scores.CountAsync(s => s.ScoreLayerId == result.LayerId));
    }

    [Fact]
    public async Task Another_writer_is_not_blocked_while_the_verifier_scores()
    {
        // Arrange: a second connection with a 1 s busy timeout, as a run starting meanwhile would write.
        using var app = new EvalApp();
        int runId = SeedEvaluation(app);
        var service = app.Services.GetRequiredService<EvaluationService>();
        string connection;
        using (var db = app.Db()) connection = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()) { DefaultTimeout = 1, Pooling = false }.ToString();
        var writes = new List<int>();

        // Act: in the middle of scoring, the other connection writes.
        var result = await service.RescoreAsync(runId, new RescoreRequest("reward-model", ModelId: 99), _ => new ProbeVerifier(i =>
        {
            if (i != 1) return;
            using var other = new SqliteConnection(connection);
            other.Open();
            using var cmd = other.CreateCommand();
            cmd.CommandText = $"UPDATE Runs SET Notes = 'written during rescore' WHERE Id = {runId}";
            writes.Add(cmd.ExecuteNonQuery());
        }));

        // Assert: the write went through (no "database is locked") and the layer is complete.
        Assert.Equal([1], writes);
        Assert.Equal(6, result.Scored);
        using var check = app.Db();
        Assert.Equal("written during rescore", (await check.Runs.SingleAsync(r => r.Id == runId)).Notes);
    }

    /// <summary>Scores every sample with one fixed probability.</summary>
    private sealed class ConstantVerifier(double p) : IVerifier
    {
        public string Name => $"const({p})";
        public double[] Score(IReadOnlyList<VerifierInput> samples) => samples.Select(_ => p).ToArray();
    }

    [Fact]
    public async Task Several_model_ids_score_with_the_mean_logit_of_the_reward_models()
    {
        // Arrange: two "reward models" saying P = 0.9 (logit ln 9) and P = 0.5 (logit 0).
        using var app = new EvalApp();
        int runId = SeedEvaluation(app);
        var service = app.Services.GetRequiredService<EvaluationService>();
        var members = new Dictionary<int, double> { [98] = 0.9, [99] = 0.5 };

        // Act
        var result = await service.RescoreAsync(runId, new RescoreRequest("reward-model", ModelId: 98, EnsembleModelIds: [99]), id => new ConstantVerifier(members[id]));

        // Assert: one layer named after both; every score is σ((ln 9 + 0) / 2) = 0.75.
        Assert.Equal("reward-model#98+99", result.Verifier);
        using var db = app.Db();
        var scores = await db.Scores.Where(s => s.ScoreLayerId == result.LayerId).Select(s => s.Value).ToListAsync();
        Assert.Equal(6, scores.Count);
        Assert.All(scores, v => Assert.Equal(0.75, v, 12));
        await Assert.ThrowsAsync<ArgumentException>(() => service.RescoreAsync(runId, new RescoreRequest("reward-model", ModelId: 98, EnsembleModelIds: [98]), id => new ConstantVerifier(members[id])));
    }
}
