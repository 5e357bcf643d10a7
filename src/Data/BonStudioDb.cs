using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Data;

/// <summary>
/// BonStudio's storage: runs and everything they produce. Thin on purpose: one IEntityTypeConfiguration
/// per entity lives in Configurations/.
/// Add a migration (from the repository root):
/// <c>dotnet tool restore &amp;&amp; dotnet ef migrations add &lt;Name&gt; --project src/Data --output-dir Migrations</c>
/// </summary>
public class BonStudioDb : DbContext
{
    public BonStudioDb(DbContextOptions<BonStudioDb> options) : base(options) { }

    /// <summary>For provider-specific subclasses (e.g. <see cref="BonStudioPostgresDb"/>) that carry their own migrations.</summary>
    protected BonStudioDb(DbContextOptions options) : base(options) { }

    public DbSet<Experiment> Experiments => Set<Experiment>();
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<RunLog> RunLogs => Set<RunLog>();
    public DbSet<MetricPoint> MetricPoints => Set<MetricPoint>();
    public DbSet<RunSummary> RunSummaries => Set<RunSummary>();
    public DbSet<Model> Models => Set<Model>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<Problem> Problems => Set<Problem>();
    public DbSet<SampleSet> SampleSets => Set<SampleSet>();
    public DbSet<Sample> Samples => Set<Sample>();
    public DbSet<ScoreLayer> ScoreLayers => Set<ScoreLayer>();
    public DbSet<Score> Scores => Set<Score>();
    public DbSet<CalibrationPoint> CalibrationPoints => Set<CalibrationPoint>();
    public DbSet<Episode> Episodes => Set<Episode>();
    public DbSet<StateStat> StateStats => Set<StateStat>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(BonStudioDb).Assembly);
}
