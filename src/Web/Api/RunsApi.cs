// REST API of runs: create (validated exactly like the form and `run`), list, get, cancel, metrics, log, kinds.
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using BonStudio.Web.RunKinds;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Api;

public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/runs").WithTags("Runs");
        api.MapPost("/", CreateRun).Accepts<CreateRunRequest>("application/json").WithName("CreateRun").WithSummary("Validate a run config and queue the run (400 names each invalid field; nothing is queued then).");
        api.MapPost("/estimate", EstimateRun).Accepts<CreateRunRequest>("application/json").WithName("EstimateRun")
            .WithSummary("Validate a run config like CreateRun and count the work it asks for (optimizer steps, sampled responses, simulator steps); nothing is queued.");
        api.MapGet("/", ListRuns).WithName("ListRuns").WithSummary("Runs with paging (0-based), filters (kind, status, tag, text, experiment, starred, archived), a filter expression over config and metrics (`filter=lr < 1e-3 and eval/accuracy > 0.4`; 400 names the position) and sort (`sort=-metric:eval/accuracy`).");
        api.MapGet("/{id:int}", GetRun).WithName("GetRun").WithSummary("A run: status, progress, config, reproducibility record, final metrics, checkpoints.");
        api.MapPost("/{id:int}/cancel", CancelRun).WithName("CancelRun").WithSummary("Cancel a queued run, or ask a running one to stop.");
        api.MapGet("/{id:int}/metrics", GetMetrics).WithName("GetRunMetrics").WithSummary("Metric curves; `afterStep` returns only newer points (live polling).");
        api.MapGet("/{id:int}/log", GetLog).WithName("GetRunLog").WithSummary("The run's log tail; `afterId` returns only newer lines.");
        app.MapGet("/api/kinds", ListKinds).WithTags("Runs").WithName("ListRunKinds")
            .WithSummary("Run kinds with their parameters (type, range, default, help): the description forms are generated from.");
        return app;
    }

    public const long MaxRequestBytes = 1 << 20;

    /// <summary>Reads the body field by field (so even a wrong top-level field is named), then validates the config.</summary>
    public static async Task<Results<Created<RunDetails>, ValidationProblem>> CreateRun(
        HttpRequest http, [FromServices] RunService runs, CancellationToken ct)
    {
        const string title = "The run request is invalid; nothing was queued.";
        if (http.ContentLength > MaxRequestBytes)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The request is larger than {MaxRequestBytes} bytes."] }, title: title);
        var (request, readErrors) = await RunRequestReader.ReadAsync(http.Body, ct);
        if (request is null) return TypedResults.ValidationProblem(readErrors, title: title);
        var result = await runs.CreateAsync(request, enqueue: true, ct);
        if (!result.IsValid) return TypedResults.ValidationProblem(result.Errors, title: title);
        var run = await runs.GetAsync(result.RunId!.Value, ct);
        return TypedResults.Created($"/api/runs/{run!.Id}", run);
    }

    public static async Task<Results<Ok<WorkEstimate>, ValidationProblem>> EstimateRun(HttpRequest http, [FromServices] RunService runs, CancellationToken ct)
    {
        const string title = "The run request is invalid.";
        if (http.ContentLength > MaxRequestBytes)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The request is larger than {MaxRequestBytes} bytes."] }, title: title);
        var (request, readErrors) = await RunRequestReader.ReadAsync(http.Body, ct);
        if (request is null) return TypedResults.ValidationProblem(readErrors, title: title);
        var (binding, errors) = runs.Validate(request);
        return errors.Count > 0 ? TypedResults.ValidationProblem(errors, title: title) : TypedResults.Ok(binding.Kind!.Estimate(binding.Config!));
    }

    public static async Task<Results<Ok<PagedResult<RunListItem>>, ValidationProblem>> ListRuns(
        [FromServices] RunService runs, CancellationToken ct,
        int page = 0, int pageSize = 25, string? kind = null, RunStatus? status = null, string? tag = null, string? text = null,
        string? filter = null, int? experimentId = null, bool? starred = null, bool? archived = null, string? sort = null)
    {
        if (RunListQuery.CheckSort(sort) is { } sortError)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["sort"] = [sortError] }, title: "The runs query is invalid.");
        try
        {
            return TypedResults.Ok(await runs.ListAsync(new RunQuery(page, pageSize, kind, status, tag, text, filter, experimentId, starred, archived, sort), ct));
        }
        catch (RunFilterException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["filter"] = [e.Message] }, title: "The runs query is invalid.",
                extensions: new Dictionary<string, object?> { ["position"] = e.Position });
        }
    }

    public static async Task<Results<Ok<RunDetails>, NotFound>> GetRun(int id, [FromServices] RunService runs, CancellationToken ct) =>
        await runs.GetAsync(id, ct) is { } run ? TypedResults.Ok(run) : TypedResults.NotFound();

    public static async Task<Results<Ok<RunDetails>, NotFound, Conflict<ProblemDetails>>> CancelRun(int id, [FromServices] RunService runs, CancellationToken ct)
    {
        var outcome = await runs.CancelAsync(id, ct);
        if (outcome == CancelOutcome.NotFound) return TypedResults.NotFound();
        var run = await runs.GetAsync(id, ct);
        if (outcome == CancelOutcome.AlreadyFinished)
            return TypedResults.Conflict(new ProblemDetails { Title = $"Run {id} already finished ({run!.Status}).", Status = 409 });
        return TypedResults.Ok(run!);
    }

    public static async Task<Results<Ok<IReadOnlyList<MetricSeries>>, NotFound>> GetMetrics(
        int id, [FromServices] RunService runs, CancellationToken ct, string? name = null, long? afterStep = null) =>
        await runs.MetricsAsync(id, name, afterStep, ct) is { } series ? TypedResults.Ok(series) : TypedResults.NotFound();

    public static async Task<Results<Ok<IReadOnlyList<LogLine>>, NotFound>> GetLog(
        int id, [FromServices] RunService runs, CancellationToken ct, long? afterId = null, int take = 200) =>
        await runs.LogAsync(id, afterId, take, ct) is { } lines ? TypedResults.Ok(lines) : TypedResults.NotFound();

    public static Ok<IReadOnlyList<RunKindInfo>> ListKinds([FromServices] RunService runs) => TypedResults.Ok(runs.Kinds());
}
