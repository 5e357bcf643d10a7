using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BonStudio.Data.Configurations;

// One IEntityTypeConfiguration per entity. Indexes follow the queries the pages and the API make.

public sealed class ExperimentConfiguration : IEntityTypeConfiguration<Experiment>
{
    public void Configure(EntityTypeBuilder<Experiment> b)
    {
        b.Property(e => e.Name).HasMaxLength(200);
        b.HasIndex(e => e.Name).IsUnique();
    }
}

public sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> b)
    {
        b.Property(r => r.Kind).HasMaxLength(40);
        b.Property(r => r.Name).HasMaxLength(300);
        b.Property(r => r.Tags).HasMaxLength(1000);
        b.Property(r => r.ConfigHash).HasMaxLength(64);
        b.Property(r => r.GroupHash).HasMaxLength(64);
        b.Property(r => r.Status).HasConversion<string>().HasMaxLength(20);
        b.Ignore(r => r.TagList);
        b.Ignore(r => r.IsFinished);
        b.HasOne(r => r.Experiment).WithMany(e => e.Runs).HasForeignKey(r => r.ExperimentId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(r => r.ParentRun).WithMany().HasForeignKey(r => r.ParentRunId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(r => r.Model).WithMany().HasForeignKey(r => r.ModelId).OnDelete(DeleteBehavior.SetNull);
        b.HasMany(r => r.Metrics).WithOne().HasForeignKey(m => m.RunId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(r => r.Summaries).WithOne().HasForeignKey(m => m.RunId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(r => r.Logs).WithOne().HasForeignKey(l => l.RunId).OnDelete(DeleteBehavior.Cascade);
        // Runs page: newest first, filtered by kind/status; seed groups; sweep children.
        b.HasIndex(r => r.CreatedAt);
        b.HasIndex(r => new { r.Kind, r.CreatedAt });
        b.HasIndex(r => new { r.Status, r.CreatedAt });
        b.HasIndex(r => r.GroupHash);
        b.HasIndex(r => r.ParentRunId);
        b.HasIndex(r => r.ExperimentId);
    }
}

public sealed class RunLogConfiguration : IEntityTypeConfiguration<RunLog>
{
    public void Configure(EntityTypeBuilder<RunLog> b)
    {
        b.Property(l => l.Level).HasMaxLength(10);
        b.HasIndex(l => new { l.RunId, l.Id });
    }
}

public sealed class MetricPointConfiguration : IEntityTypeConfiguration<MetricPoint>
{
    public void Configure(EntityTypeBuilder<MetricPoint> b)
    {
        b.Property(m => m.Name).HasMaxLength(200);
        // Unique: a resumed run overwrites instead of duplicating; also the index live charts read by.
        b.HasIndex(m => new { m.RunId, m.Name, m.Step }).IsUnique();
        // Live pages poll "points of run R after id X" in id order: a range read instead of sorting all of a long run's points.
        b.HasIndex(m => new { m.RunId, m.Id });
    }
}

public sealed class RunSummaryConfiguration : IEntityTypeConfiguration<RunSummary>
{
    public void Configure(EntityTypeBuilder<RunSummary> b)
    {
        b.HasKey(s => new { s.RunId, s.Name });
        b.Property(s => s.Name).HasMaxLength(200);
        // Metric filters: "bon_at_32 > 0.4" scans one name's values.
        b.HasIndex(s => new { s.Name, s.Value });
    }
}

public sealed class ModelConfiguration : IEntityTypeConfiguration<Model>
{
    public void Configure(EntityTypeBuilder<Model> b)
    {
        b.Property(m => m.Name).HasMaxLength(300);
        b.Property(m => m.Architecture).HasMaxLength(40);
        b.Property(m => m.Tokenizer).HasMaxLength(100);
        b.Property(m => m.Source).HasMaxLength(20);
        b.HasOne(m => m.ProducedByRun).WithMany().HasForeignKey(m => m.ProducedByRunId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(m => m.ProducedByRunId);
        b.HasIndex(m => m.CreatedAt);
    }
}
