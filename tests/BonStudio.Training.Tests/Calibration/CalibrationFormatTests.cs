// Pure (no torch) tests of the calibration pieces: consistency and likelihood formulas, the phrase ladder as
// calibration-SFT uses it, the augmented-data builder, phrase parsing, config validation and the JSONL sink.
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Calibration;
using BonStudio.Training.Tasks;

namespace BonStudio.Training.Tests.Calibration;

public class CalibrationFormatTests
{
    [Fact]
    public void Consistency_is_the_exact_share_of_samples_matching_the_greedy_answer()
    {
        Assert.Equal(0.5, ConfidenceSources.ConsistencyOf("33", ["33", "34", null, "33"]));
        Assert.Equal(1.0, ConfidenceSources.ConsistencyOf("7", ["7", "7", "7"]));
        Assert.Equal(0.0, ConfidenceSources.ConsistencyOf("7", ["8", null]));
        Assert.Equal(1.0 / 3, ConfidenceSources.ConsistencyOf("12", ["12", "21", "1"]), 12);
        // A greedy response without an answer has nothing to agree with, even when samples also lack one.
        Assert.Equal(0.0, ConfidenceSources.ConsistencyOf(null, [null, null]));
        Assert.Throws<ArgumentException>(() => ConfidenceSources.ConsistencyOf("1", []));
    }

    [Fact]
    public void Likelihood_is_exp_of_the_mean_token_log_prob()
    {
        Assert.Equal(0.5, ConfidenceSources.LikelihoodOf([MathF.Log(0.5f), MathF.Log(0.5f)]), 6);
        Assert.Equal(Math.Exp((Math.Log(0.9) + Math.Log(0.1)) / 2), ConfidenceSources.LikelihoodOf([MathF.Log(0.9f), MathF.Log(0.1f)]), 6);
        Assert.Equal(1.0, ConfidenceSources.LikelihoodOf([0f, 0f, 0f]));
        Assert.Equal(0.0, ConfidenceSources.LikelihoodOf([]));
    }

    [Theory]
    [InlineData(0.99, "almost certain")]
    [InlineData(0.93, "almost certain")]
    [InlineData(0.85, "very good chance")] // tie between .90 and .80 goes to the less confident phrase
    [InlineData(0.71, "likely")]
    [InlineData(0.40, "about even")]
    [InlineData(0.30, "probably not")]
    [InlineData(0.22, "unlikely")]
    [InlineData(0.0, "almost no chance")]
    [InlineData(1.0, "almost certain")]
    public void Nearest_phrase_of_the_default_ladder(double confidence, string phrase) =>
        Assert.Equal(phrase, PhraseLadderView.Default.Nearest(confidence).Phrase);

    [Fact]
    public void Augmented_data_builder_labels_each_answer_with_the_nearest_phrase_on_its_own_line()
    {
        var problems = MiniMath.Generate("train", 3, [1], seed: 4);
        var answers = problems.Select((p, i) => new AnsweredProblem(p, MiniMath.Completion(p) + (i == 1 ? "  " : ""), p.Answer, true, [])).ToList();
        var (pairs, labels, skipped) = CalibrationSft.BuildTrainingPairs(answers, [0.97, 0.58, 0.04], PhraseLadderView.Default, 256);

        Assert.Equal(0, skipped);
        Assert.Equal(["almost certain", "better than even", "highly unlikely"], labels);
        Assert.Equal(MiniMath.Prompt(problems[0]), pairs[0].Prompt);
        Assert.Equal(MiniMath.Completion(problems[1]) + "\nConf: better than even", pairs[1].Completion); // trailing spaces trimmed
        // The strict checker still grades the answer line alone.
        Assert.All(pairs.Select((p, i) => (p, i)), x => Assert.True(MiniMath.IsCorrect(x.p.Completion, problems[x.i].Answer)));

        // Phrase-only loss: the same text, with the answer moved into the prompt so only the confidence line is a target.
        var (phraseOnly, _, _) = CalibrationSft.BuildTrainingPairs(answers, [0.97, 0.58, 0.04], PhraseLadderView.Default, 256, phraseOnly: true);
        Assert.Equal(pairs.Select(p => p.Prompt + p.Completion), phraseOnly.Select(p => p.Prompt + p.Completion));
        Assert.Equal("\nConf: better than even", phraseOnly[1].Completion);
        Assert.Equal(MiniMath.Prompt(problems[1]) + MiniMath.Completion(problems[1]), phraseOnly[1].Prompt);
    }

    [Fact]
    public void Augmented_data_builder_leaves_out_answers_too_long_for_the_context()
    {
        var p = MiniMath.Generate("train", 1, [1], seed: 2)[0];
        var answer = new AnsweredProblem(p, MiniMath.Completion(p), p.Answer, true, []);
        int needed = 1 + MiniMath.Prompt(p).Length + LinguisticFormat.Completion(answer.Response, "likely").Length;
        Assert.Single(CalibrationSft.BuildTrainingPairs([answer], [0.7], PhraseLadderView.Default, needed).Pairs);
        Assert.Equal(1, CalibrationSft.BuildTrainingPairs([answer], [0.7], PhraseLadderView.Default, needed - 1).Skipped);
    }

    [Theory]
    [InlineData("17+25=42 #### 42\nConf: likely", "likely", 0.70)]
    [InlineData("#### 42\nConf: Highly Likely.", "highly likely", 0.90)]
    [InlineData("#### 42\nConf:   about even  \nmore text", "about even", 0.50)]
    [InlineData("#### 1\nConf: likely\nConf: almost no chance", "almost no chance", 0.02)] // the last line counts
    public void Parses_the_emitted_phrase_and_maps_it_back_to_its_probability(string text, string phrase, double probability)
    {
        var parsed = LinguisticFormat.Parse(text, PhraseLadderView.Default);
        Assert.True(parsed.Parsed);
        Assert.Equal(phrase, parsed.Phrase);
        Assert.Equal(probability, parsed.Probability!.Value, 12);
    }

    [Theory]
    [InlineData("17+25=42 #### 42", null)]                           // no confidence line
    [InlineData("#### 42\nConf: maybe", "maybe")]                // not on the ladder
    [InlineData("#### 42\nConf: ", "")]                          // empty
    [InlineData("#### 42\nConf: likelyish", "likelyish")]        // no prefix matching
    [InlineData("#### 42\nconf likely", null)]                   // marker misspelt
    public void Unknown_or_missing_phrases_are_unparseable(string text, string? raw)
    {
        var parsed = LinguisticFormat.Parse(text, PhraseLadderView.Default);
        Assert.False(parsed.Parsed);
        Assert.Null(parsed.Probability);
        Assert.Equal(raw, parsed.Raw);
    }

    [Fact]
    public void An_edited_ladder_is_used_and_bad_entries_are_refused_with_their_index()
    {
        var ladder = PhraseLadderView.Parse(["sure=0.9", "no idea=0.5", "doubtful=0.2"]);
        Assert.Equal("no idea", ladder.Nearest(0.45).Phrase);
        Assert.Equal(0.9, LinguisticFormat.Parse("#### 3\nConf: sure", ladder).Probability);
        Assert.False(LinguisticFormat.Parse("#### 3\nConf: likely", ladder).Parsed);

        Assert.Contains("Ladder[1]", Assert.Throws<ArgumentException>(() => PhraseLadderView.Parse(["a=0.5", "b"])).Message);
        Assert.Contains("Ladder[1]", Assert.Throws<ArgumentException>(() => PhraseLadderView.Parse(["a=0.5", "b=1.5"])).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => PhraseLadderView.Parse(["a=0.5", "A=0.4"])).Message);
        Assert.Throws<ArgumentException>(() => PhraseLadderView.Parse(["a=0.5"]));
    }

    [Fact]
    public void Configs_reject_unknown_sources_levels_and_ladders_naming_the_field()
    {
        new CalibrationEvalConfig().EnsureValid();
        new CalibrationSftConfig().EnsureValid();
        var e1 = Assert.Throws<ValidationException>(() => (new CalibrationEvalConfig { Sources = ["p-true", "vibes"] }).EnsureValid());
        Assert.Contains("Sources: 'vibes'", e1.Message);
        var e2 = Assert.Throws<ValidationException>(() => (new CalibrationEvalConfig { Levels = [1, 6] }).EnsureValid());
        Assert.Contains("Levels: 6", e2.Message);
        var e3 = Assert.Throws<ValidationException>(() => (new CalibrationSftConfig { Ladder = ["sure=2", "meh=0.5"] }).EnsureValid());
        Assert.Contains("Ladder[0]", e3.Message);
        var e4 = Assert.Throws<ValidationException>(() => (new CalibrationSftConfig { Labels = "sometimes" }).EnsureValid());
        Assert.Contains("Labels", e4.Message);
        Assert.Throws<ValidationException>(() => (new CalibrationEvalConfig { ConsistencySamples = 0 }).EnsureValid());
        new CalibrationSftConfig { Split = "validation" }.EnsureValid();
        var e5 = Assert.Throws<ValidationException>(() => (new CalibrationSftConfig { Split = "train" }).EnsureValid()); // never evaluate on training questions
        Assert.Contains("Split", e5.Message);
    }

    [Fact]
    public void Jsonl_sink_round_trips_records_and_reports_bad_lines_by_number()
    {
        var path = Path.Combine(Path.GetTempPath(), $"calib-{Guid.NewGuid():N}.jsonl");
        try
        {
            var sink = new JsonlCalibrationSink(path);
            var records = new List<CalibrationRecord>
            {
                new("phrase", "q1", 0.7, true, "likely", "33", 2),
                new("consistency", "q2", 0.0, false),
            };
            sink.Add(records);
            Assert.Equal(records, JsonlCalibrationSink.Read(path));
            Assert.Contains("\"question_id\":\"q1\"", File.ReadAllLines(path)[0]);

            File.AppendAllText(path, "{\"source\":\"x\",\"question_id\":\"q3\",\"confidence\":1.5,\"correct\":true}\n");
            Assert.Contains(":3:", Assert.Throws<InvalidDataException>(() => JsonlCalibrationSink.Read(path)).Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Batch_order_seed_is_the_same_in_every_process()
    {
        // Fixed values (computed independently): HashCode.Combine would differ between processes and break reruns.
        Assert.Equal(185124933, LikelihoodTrainer.BatchSeed(1, 0));
        Assert.Equal(1125744258, LikelihoodTrainer.BatchSeed(7, 123));
    }

    [Fact]
    public void Summary_ece_brier_and_auroc_on_a_hand_computed_case()
    {
        // Two bins used: conf 0.9 (3 correct of 4) and conf 0.2 (1 correct of 2); 15 equal-width bins.
        var records = new[] { (0.9, true), (0.9, true), (0.9, true), (0.9, false), (0.2, true), (0.2, false) }
            .Select((x, i) => new CalibrationRecord("s", $"q{i}", x.Item1, x.Item2)).ToList();
        var s = CalibrationSummary.Of("s", records);
        Assert.Equal(4.0 / 6 * Math.Abs(0.75 - 0.9) + 2.0 / 6 * Math.Abs(0.5 - 0.2), s.Ece15, 12);
        Assert.Equal((3 * 0.01 + 0.81 + 0.64 + 0.04) / 6, s.Brier, 12);
        // Positives: 0.9 ×3, 0.2 ×1; negatives: 0.9, 0.2. Pairs won: 3×(1 + 0.5) + (0.5 + 0) = 5 of 8.
        Assert.Equal(5.0 / 8, s.Auroc, 12);
        Assert.True(double.IsNaN(CalibrationSummary.Of("s", records.Where(r => r.Correct).ToList()).Auroc));
    }
}
