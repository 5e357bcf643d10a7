// Request and response shapes shared by the REST API, the pages and the command line.
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;

namespace BonStudio.Web.Services;

/// <summary>What a client sends to create a run (also the format of a config file for `run`).</summary>
/// <param name="Kind">Run kind, e.g. "sft".</param>
/// <param name="Name">Optional display name; default "{kind}__{seed}__{unix time}".</param>
/// <param name="Config">The kind's parameters; missing ones take the kind's defaults.</param>
public sealed record CreateRunRequest(
    string? Kind,
    string? Name = null,
    JsonObject? Config = null,
    IReadOnlyList<string>? Tags = null,
    string? Notes = null,
    int? ExperimentId = null);

/// <summary>Filters and paging of the runs list (page is 0-based).</summary>
public sealed record RunQuery(
    int Page = 0,
    int PageSize = 25,
    string? Kind = null,
    RunStatus? Status = null,
    string? Tag = null,
    string? Text = null,
    /// <summary>Filter expression over config, metrics and columns, e.g. "lr &lt; 1e-3 and bon/bon_at_32 &gt; 0.4".</summary>
    string? Filter = null,
    int? ExperimentId = null,
    bool? Starred = null,
    /// <summary>null: hide archived runs; true: only archived; false: only not archived.</summary>
    bool? Archived = null,
    /// <summary>"created" (default), "name", "id", "status", "kind", or "metric:&lt;name&gt;"; a leading '-' sorts descending.</summary>
    string? Sort = null);

public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);

public sealed record RunListItem(
    int Id, string Kind, string Name, RunStatus Status, double Progress, string? StatusMessage,
    IReadOnlyList<string> Tags, long Seed, DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt,
    bool Starred = false, bool Archived = false, string GroupHash = "", int? ExperimentId = null, int? ParentRunId = null,
    string? Notes = null, IReadOnlyDictionary<string, double>? Metrics = null);

public sealed record RunDetails(
    int Id, string Kind, string Name, RunStatus Status, double Progress, string? StatusMessage, string? Error,
    bool CancelRequested, IReadOnlyList<string> Tags, string? Notes, int? ExperimentId,
    JsonObject Config, string ConfigHash, string GroupHash, long Seed,
    string? Device, int Threads, string? Worker, string? CodeVersion, string? EnvironmentJson,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, DateTime? HeartbeatAt, int Attempts,
    int? ParentRunId, string? HangfireJobId,
    IReadOnlyDictionary<string, double> FinalMetrics,
    IReadOnlyList<ModelItem> Models);

public sealed record MetricPointDto(long Step, double Value);

public sealed record MetricSeries(string Name, IReadOnlyList<MetricPointDto> Points);

public sealed record LogLine(long Id, DateTime Time, string Level, string Message);

public sealed record ModelItem(
    int Id, string Name, string Architecture, string Tokenizer, string Path, long Step, long Parameters,
    long SizeBytes, string Source, bool IsFinal, int? ProducedByRunId, DateTime CreatedAt);

public sealed record RunKindInfo(string Name, string Title, string Description, JsonObject Defaults, IReadOnlyList<RunKindField> Fields);

public sealed record RunKindField(string Name, string Label, string? Help, string Type, double? Minimum, double? Maximum, bool Required, IReadOnlyList<string>? Choices);

/// <summary>Outcome of a cancel request.</summary>
public enum CancelOutcome { NotFound, AlreadyFinished, Cancelled, Requested }

/// <summary>The order metric names are listed in: digit runs compare as numbers, so bon_at_2 comes before bon_at_16
/// (the BCL's numeric ordering, new in .NET 10; it needs ICU, which the SDK and aspnet images have).</summary>
public static class MetricNameOrder
{
    public static readonly StringComparer Comparer =
        StringComparer.Create(System.Globalization.CultureInfo.InvariantCulture, System.Globalization.CompareOptions.NumericOrdering);
}
