using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BonStudio.Data.Configurations;

public sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> b)
    {
        b.Property(d => d.Name).HasMaxLength(300);
        b.Property(d => d.Suite).HasMaxLength(40);
        b.Property(d => d.ContentHash).HasMaxLength(64);
        b.HasMany(d => d.Problems).WithOne().HasForeignKey(p => p.DatasetId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(d => d.ContentHash);
    }
}

public sealed class ProblemConfiguration : IEntityTypeConfiguration<Problem>
{
    public void Configure(EntityTypeBuilder<Problem> b)
    {
        b.Property(p => p.ExternalId).HasMaxLength(300);
        b.Property(p => p.ContentHash).HasMaxLength(64);
        b.HasIndex(p => new { p.DatasetId, p.ExternalId }).IsUnique();
    }
}

public sealed class SampleSetConfiguration : IEntityTypeConfiguration<SampleSet>
{
    public void Configure(EntityTypeBuilder<SampleSet> b)
    {
        b.Property(s => s.PromptKey).HasMaxLength(300);
        b.HasOne(s => s.Problem).WithMany().HasForeignKey(s => s.ProblemId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<Run>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(s => s.Samples).WithOne().HasForeignKey(s => s.SampleSetId).OnDelete(DeleteBehavior.Cascade);
        // Inspector: one run's prompts at one temperature, paged by key; per-prompt diff aligns on PromptKey.
        b.HasIndex(s => new { s.RunId, s.Temperature, s.PromptKey }).IsUnique();
        b.HasIndex(s => new { s.RunId, s.CorrectCount });
        // Exports, re-scoring and verifier training read one evaluation's sets in Id order: without it that is a scan of
        // every evaluation's sets (issue #7 scale benchmark).
        b.HasIndex(s => new { s.RunId, s.Id });
    }
}

public sealed class SampleConfiguration : IEntityTypeConfiguration<Sample>
{
    public void Configure(EntityTypeBuilder<Sample> b)
    {
        b.HasMany(s => s.Scores).WithOne().HasForeignKey(s => s.SampleId).OnDelete(DeleteBehavior.Cascade);
        // Exactly once per (set, index): a resumed evaluation cannot write a sample twice.
        b.HasIndex(s => new { s.SampleSetId, s.Index }).IsUnique();
    }
}

public sealed class ScoreLayerConfiguration : IEntityTypeConfiguration<ScoreLayer>
{
    public void Configure(EntityTypeBuilder<ScoreLayer> b)
    {
        b.Property(l => l.Verifier).HasMaxLength(200);
        b.HasOne<Run>().WithMany().HasForeignKey(l => l.RunId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(l => new { l.RunId, l.Verifier }).IsUnique();
    }
}

public sealed class ScoreConfiguration : IEntityTypeConfiguration<Score>
{
    public void Configure(EntityTypeBuilder<Score> b)
    {
        b.HasKey(s => new { s.SampleId, s.ScoreLayerId });
        b.HasOne<ScoreLayer>().WithMany().HasForeignKey(s => s.ScoreLayerId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class CalibrationPointConfiguration : IEntityTypeConfiguration<CalibrationPoint>
{
    public void Configure(EntityTypeBuilder<CalibrationPoint> b)
    {
        b.Property(c => c.Source).HasMaxLength(100);
        b.Property(c => c.QuestionKey).HasMaxLength(300);
        b.HasOne<Run>().WithMany().HasForeignKey(c => c.RunId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(c => new { c.RunId, c.Source });
    }
}

public sealed class EpisodeConfiguration : IEntityTypeConfiguration<Episode>
{
    public void Configure(EntityTypeBuilder<Episode> b)
    {
        b.Property(e => e.StartKind).HasMaxLength(10);
        b.HasOne<Run>().WithMany().HasForeignKey(e => e.RunId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(e => new { e.RunId, e.IsEvaluation, e.Index }).IsUnique();
    }
}

public sealed class StateStatConfiguration : IEntityTypeConfiguration<StateStat>
{
    public void Configure(EntityTypeBuilder<StateStat> b)
    {
        b.Property(s => s.StateKey).HasMaxLength(100);
        b.HasOne<Run>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(s => new { s.RunId, s.AtStep, s.StateKey }).IsUnique();
    }
}
