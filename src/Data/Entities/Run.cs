namespace BonStudio.Data.Entities;

/// <summary>Lifecycle of a run. The Run row is the source of truth; Hangfire only executes.</summary>
public enum RunStatus
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
    Cancelled = 4,
    /// <summary>The process running it died (found "running" at start-up); resumable from its last checkpoint.</summary>
    Interrupted = 5,
}

/// <summary>One execution of a run kind with a validated configuration.</summary>
public class Run
{
    public int Id { get; set; }
    public int? ExperimentId { get; set; }
    public Experiment? Experiment { get; set; }

    /// <summary>Run kind, e.g. "sft", "bon-eval", "rl", "sweep".</summary>
    public required string Kind { get; set; }
    public required string Name { get; set; }
    /// <summary>Tags, stored as ",a,b," so a tag filter is one indexed-prefix-free LIKE; use <see cref="TagList"/>.</summary>
    public string Tags { get; set; } = "";
    /// <summary>Markdown notes (rendered safely).</summary>
    public string? Notes { get; set; }
    public bool Starred { get; set; }
    public bool Archived { get; set; }

    /// <summary>The kind's configuration as canonical JSON (validated before the row is written).</summary>
    public required string ConfigJson { get; set; }
    /// <summary>SHA-256 of the canonical config.</summary>
    public required string ConfigHash { get; set; }
    /// <summary>SHA-256 of the canonical config without its seed: runs that differ only by seed share it.</summary>
    public required string GroupHash { get; set; }
    public long Seed { get; set; }

    public RunStatus Status { get; set; } = RunStatus.Queued;
    /// <summary>Fraction done in [0, 1].</summary>
    public double Progress { get; set; }
    public string? StatusMessage { get; set; }
    public string? Error { get; set; }
    public bool CancelRequested { get; set; }

    // Reproducibility record.
    public string? Device { get; set; }
    public int Threads { get; set; }
    public string? Worker { get; set; }
    /// <summary>Git commit of the code that ran it, with "+dirty" when the tree had changes.</summary>
    public string? CodeVersion { get; set; }
    /// <summary>JSON: machine, OS, .NET, TorchSharp/libtorch versions, data set hashes.</summary>
    public string? EnvironmentJson { get; set; }

    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    /// <summary>Last sign of life from the worker running it.</summary>
    public DateTime? HeartbeatAt { get; set; }
    /// <summary>How many times execution started (1 + resumes).</summary>
    public int Attempts { get; set; }

    /// <summary>The run this one derives from (e.g. the sweep that expanded into it, or the fine-tune an eval continues).</summary>
    public int? ParentRunId { get; set; }
    public Run? ParentRun { get; set; }
    /// <summary>The model this run starts from or evaluates, if any.</summary>
    public int? ModelId { get; set; }
    public Model? Model { get; set; }
    public string? HangfireJobId { get; set; }

    public List<MetricPoint> Metrics { get; set; } = [];
    public List<RunSummary> Summaries { get; set; } = [];
    public List<RunLog> Logs { get; set; } = [];

    public IReadOnlyList<string> TagList
    {
        get => Tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        set => Tags = value.Count == 0 ? "" : "," + string.Join(",", value.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct()) + ",";
    }

    public bool IsFinished => Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled;
}
