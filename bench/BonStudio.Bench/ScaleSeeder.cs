// Seeds a BonStudio SQLite database at scale for the `scale` benchmark (issue #7): the schema comes from the app's own
// EF Core migrations, the rows are written with prepared INSERTs in one transaction (column names and value
// conversions, e.g. RunStatus → text, are read from the EF model, so the seeder follows the entity classes).
// Deterministic given the seed. Counts are parameters so a test can seed a tiny copy and check them.
using System.Data.Common;
using System.Globalization;
using System.Text;
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace BonStudio.Bench;

/// <summary>What to seed; defaults are issue #7's scale.</summary>
public sealed record ScaleSeedConfig
{
    /// <summary>Runs in the table (one of them is the big evaluation).</summary>
    public int Runs { get; init; } = 10_000;
    /// <summary>Metric series per run (train/loss, eval/accuracy, lr, ...), each with <see cref="StepsPerSeries"/> points.</summary>
    public int SeriesPerRun { get; init; } = 3;
    /// <summary>Points per metric series.</summary>
    public int StepsPerSeries { get; init; } = 20;
    /// <summary>Prompts of the big bon-eval evaluation.</summary>
    public int Prompts { get; init; } = 2_000;
    /// <summary>Samples per prompt of the big evaluation.</summary>
    public int SamplesPerPrompt { get; init; } = 128;
    /// <summary>Experiments the runs are spread over.</summary>
    public int Experiments { get; init; } = 20;
    public int Seed { get; init; } = 1;
}

/// <summary>What was seeded: counts (read back from the database) and the ids the benchmark requests.</summary>
public sealed record ScaleSeedResult(int Runs, long MetricPoints, int Summaries, int SampleSets, long Samples, long Scores,
    int EvaluationRunId, long MiddleSetId, int MetricRunId, TimeSpan Elapsed);

public static class ScaleSeeder
{
    public static readonly string[] Kinds = ["sft", "bon-finetune", "bon-eval", "calibration-eval", "rl", "verifier"];
    private static readonly string[] SeriesNames = ["train/loss", "eval/accuracy", "train/lr", "train/grad_norm", "eval/loss"];
    public const string BonMetric = "bon/bon_at_32@oracle";
    private static readonly string[] Tags = ["baseline", "ablation", "bon", "calibration", "uflp", "sweep", "paper", "debug"];

    /// <summary>Creates (or replaces) the SQLite file at <paramref name="dbPath"/> with the app's schema and the seeded rows.</summary>
    public static async Task<ScaleSeedResult> SeedAsync(string dbPath, ScaleSeedConfig config, Action<string>? log = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var f in new[] { dbPath, dbPath + "-wal", dbPath + "-shm" }) if (File.Exists(f)) File.Delete(f);
        var cs = DataExtensions.SqliteConnectionString(dbPath);
        var options = new DbContextOptionsBuilder<BonStudioDb>().UseSqlite(cs).Options;
        await using var db = new BonStudioDb(options);
        await db.MigrateAsync(); // the app's migrations, as at start-up
        SqliteConnection.ClearAllPools();

        await using var conn = new SqliteConnection(cs);
        await conn.OpenAsync();
        using (var pragma = conn.CreateCommand()) { pragma.CommandText = "PRAGMA synchronous=OFF; PRAGMA cache_size=-200000;"; pragma.ExecuteNonQuery(); }
        using var tx = conn.BeginTransaction();
        var rng = new Random(config.Seed);
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        using (var experiments = new BulkInsert<Experiment>(db, conn, tx))
            for (int e = 1; e <= config.Experiments; e++)
                experiments.Add(new Experiment { Id = e, Name = $"experiment-{e:D3}", CreatedAt = start.AddDays(e) });

        // The big evaluation is the run in the middle of the table (neither first nor last page).
        int evalRunId = Math.Max(1, config.Runs / 2);
        using (var runs = new BulkInsert<Run>(db, conn, tx))
        using (var points = new BulkInsert<MetricPoint>(db, conn, tx))
        using (var summaries = new BulkInsert<RunSummary>(db, conn, tx))
        {
            long pointId = 0;
            for (int id = 1; id <= config.Runs; id++)
            {
                var kind = id == evalRunId ? "bon-eval" : Kinds[rng.Next(Kinds.Length)];
                long seed = rng.Next(1, 6);
                double lr = Math.Pow(10, -5 + 3 * rng.NextDouble()); // 1e-5 .. 1e-2
                int batchSize = 8 << rng.Next(4);
                int layers = 2 + 2 * rng.Next(3);
                var configJson = string.Create(CultureInfo.InvariantCulture,
                    $"{{\"batchSize\":{batchSize},\"learningRate\":{lr:R},\"model\":{{\"dModel\":{64 << rng.Next(3)},\"layers\":{layers}}},\"n\":{(kind == "bon-eval" ? config.SamplesPerPrompt : 32)},\"seed\":{seed},\"steps\":{500 * (1 + rng.Next(6))},\"temperature\":{Math.Round(0.5 + rng.NextDouble(), 2):R}}}");
                var group = Hash(configJson.Replace($"\"seed\":{seed}", ""));
                // Finished statuses only: the app's start-up housekeeping would resume "running" rows and queue "queued" ones,
                // changing the seeded database between benchmark runs.
                var status = rng.NextDouble() switch { < 0.85 => RunStatus.Succeeded, < 0.95 => RunStatus.Failed, _ => RunStatus.Cancelled };
                if (id == evalRunId) status = RunStatus.Succeeded;
                var created = start.AddMinutes(id * 7);
                var tagList = Tags.Where(_ => rng.NextDouble() < 0.2).ToList();
                runs.Add(new Run
                {
                    Id = id, ExperimentId = 1 + rng.Next(config.Experiments), Kind = kind,
                    Name = $"{kind}__{(kind == "rl" ? "deepsea" : "minimath")}__{seed}__{id}", Tags = tagList.Count == 0 ? "" : "," + string.Join(",", tagList) + ",",
                    Notes = rng.NextDouble() < 0.1 ? "Notes: compare with the baseline; lr sweep." : null,
                    Starred = rng.NextDouble() < 0.05, Archived = rng.NextDouble() < 0.03,
                    ConfigJson = configJson, ConfigHash = Hash(configJson), GroupHash = group, Seed = seed,
                    Status = status, Progress = status == RunStatus.Succeeded ? 1 : rng.NextDouble(),
                    Device = "cpu", Threads = 2, Worker = "bench", CodeVersion = "bench",
                    CreatedAt = created, StartedAt = created.AddSeconds(5), FinishedAt = created.AddMinutes(6), Attempts = 1,
                });
                double quality = rng.NextDouble();
                for (int s = 0; s < config.SeriesPerRun; s++)
                {
                    var name = SeriesNames[s % SeriesNames.Length] + (s >= SeriesNames.Length ? "_" + s : "");
                    for (int step = 1; step <= config.StepsPerSeries; step++)
                        points.Add(new MetricPoint
                        {
                            Id = ++pointId, RunId = id, Name = name, Step = step * 25L,
                            Value = Math.Exp(-step * 0.1 * (0.5 + quality)) + 0.01 * rng.NextDouble(), WallTime = created.AddSeconds(step),
                        });
                }
                // Final metrics: what the runs table shows and filters on.
                summaries.Add(new RunSummary { RunId = id, Name = "train/loss", Value = 2 * (1 - quality) + 0.1 * rng.NextDouble(), Step = config.StepsPerSeries * 25L });
                summaries.Add(new RunSummary { RunId = id, Name = "eval/accuracy", Value = quality, Step = config.StepsPerSeries * 25L });
                if (kind is "bon-eval" or "bon-finetune")
                {
                    summaries.Add(new RunSummary { RunId = id, Name = "bon/pass_at_1", Value = 0.8 * quality, Step = 1 });
                    summaries.Add(new RunSummary { RunId = id, Name = BonMetric, Value = Math.Min(1, quality * (0.7 + 0.5 * rng.NextDouble())), Step = 32 });
                }
                if (kind == "calibration-eval")
                    summaries.Add(new RunSummary { RunId = id, Name = "calibration/ece", Value = 0.3 * rng.NextDouble(), Step = 0 });
            }
        }
        log?.Invoke($"runs, metrics and summaries written ({clock.Elapsed.TotalSeconds:F1} s)");

        // The big evaluation: prompts × n samples, each with an oracle score.
        using (var layers = new BulkInsert<ScoreLayer>(db, conn, tx))
            layers.Add(new ScoreLayer { Id = 1, RunId = evalRunId, Verifier = "oracle", CreatedAt = start });
        long middleSet = 0;
        using (var sets = new BulkInsert<SampleSet>(db, conn, tx))
        using (var samples = new BulkInsert<Sample>(db, conn, tx))
        using (var scores = new BulkInsert<Score>(db, conn, tx))
        {
            long sampleId = 0;
            for (int p = 1; p <= config.Prompts; p++)
            {
                int a = rng.Next(2, 50), b = rng.Next(2, 50), difficulty = 1 + rng.Next(3);
                var answer = (a + b).ToString(CultureInfo.InvariantCulture);
                double skill = rng.NextDouble();
                var rows = new List<Sample>(config.SamplesPerPrompt);
                for (int i = 0; i < config.SamplesPerPrompt; i++)
                {
                    bool correct = rng.NextDouble() < skill;
                    var extracted = correct ? answer : (a + b + rng.Next(-3, 4)).ToString(CultureInfo.InvariantCulture);
                    rows.Add(new Sample
                    {
                        Id = ++sampleId, SampleSetId = p, Index = i,
                        Text = $"Tom has {a} apples and buys {b} more. {a} + {b} = {extracted}. The answer is {extracted}.",
                        ExtractedAnswer = extracted, Correct = correct, TokenCount = 40 + rng.Next(30), LogProb = -10 * rng.NextDouble(),
                    });
                }
                sets.Add(new SampleSet
                {
                    Id = p, RunId = evalRunId, PromptKey = $"minimath/test/{p:D5}",
                    PromptText = $"Question {p}: Tom has {a} apples and buys {b} more. How many apples does Tom have now?",
                    ReferenceAnswer = answer, Difficulty = difficulty, Temperature = 1.0, N = config.SamplesPerPrompt,
                    CorrectCount = rows.Count(r => r.Correct == true),
                });
                foreach (var row in rows)
                {
                    samples.Add(row);
                    scores.Add(new Score { SampleId = row.Id, ScoreLayerId = 1, Value = row.Correct == true ? 1 : 0 });
                }
                if (p == (config.Prompts + 1) / 2) middleSet = p;
            }
        }
        tx.Commit();
        using (var analyze = conn.CreateCommand()) { analyze.CommandText = "ANALYZE;"; analyze.ExecuteNonQuery(); }
        log?.Invoke($"evaluation written ({clock.Elapsed.TotalSeconds:F1} s)");

        long Count(string table)
        {
            using var c = conn.CreateCommand();
            c.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
            return (long)c.ExecuteScalar()!;
        }
        // The stated scale, read back: a seeder that silently wrote less would make every figure meaningless.
        long expectedSamples = (long)config.Prompts * config.SamplesPerPrompt;
        var counts = (Runs: Count("Runs"), Points: Count("MetricPoints"), Sets: Count("SampleSets"), Samples: Count("Samples"), Scores: Count("Scores"));
        if (counts.Runs != config.Runs || counts.Points != (long)config.Runs * config.SeriesPerRun * config.StepsPerSeries
            || counts.Sets != config.Prompts || counts.Samples != expectedSamples || counts.Scores != expectedSamples)
            throw new InvalidOperationException($"seeded counts {counts} differ from the configuration {config}");
        int metricRun = 1;
        while (metricRun < config.Runs && MissingMetrics(conn, metricRun)) metricRun++;
        return new ScaleSeedResult((int)Count("Runs"), Count("MetricPoints"), (int)Count("RunSummaries"), (int)Count("SampleSets"),
            Count("Samples"), Count("Scores"), evalRunId, middleSet, metricRun, clock.Elapsed);
    }

    private static bool MissingMetrics(SqliteConnection conn, int runId)
    {
        using var c = conn.CreateCommand();
        c.CommandText = "SELECT COUNT(*) FROM \"MetricPoints\" WHERE \"RunId\" = $id";
        c.Parameters.AddWithValue("$id", runId);
        return (long)c.ExecuteScalar()! == 0;
    }

    private static string Hash(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>A prepared INSERT of every mapped column of <typeparamref name="T"/> (keys included: the seeder assigns ids).</summary>
    private sealed class BulkInsert<T> : IDisposable where T : class
    {
        private readonly DbCommand _command;
        private readonly (IProperty Property, DbParameter Parameter)[] _columns;

        public BulkInsert(BonStudioDb db, SqliteConnection conn, SqliteTransaction tx)
        {
            var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the EF model");
            var table = entity.GetTableName()!;
            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            var properties = entity.GetProperties().Where(p => p.PropertyInfo is not null).ToList();
            _command = conn.CreateCommand();
            _command.Transaction = tx;
            var names = properties.Select(p => "\"" + p.GetColumnName(store) + "\"");
            _command.CommandText = $"INSERT INTO \"{table}\" ({string.Join(", ", names)}) VALUES ({string.Join(", ", properties.Select((_, i) => "$p" + i))})";
            _columns = properties.Select((p, i) =>
            {
                var parameter = _command.CreateParameter();
                parameter.ParameterName = "$p" + i;
                _command.Parameters.Add(parameter);
                return (p, parameter);
            }).ToArray();
            _command.Prepare();
        }

        public void Add(T row)
        {
            foreach (var (property, parameter) in _columns)
            {
                var value = property.PropertyInfo!.GetValue(row);
                if (value is not null && property.GetTypeMapping().Converter is { } converter) value = converter.ConvertToProvider(value);
                parameter.Value = value ?? DBNull.Value;
            }
            _command.ExecuteNonQuery();
        }

        public void Dispose() => _command.Dispose();
    }
}
