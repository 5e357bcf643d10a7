// REST API of Best-of-N evaluations (issue #3): list, exact metric curves with 95% intervals (computed on demand from
// stored samples, cached), the inspector's paged prompts and prompt detail, per-prompt diffs, and re-scoring.
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Api;

public static class EvaluationsApi
{
    public static IEndpointRouteBuilder MapEvaluationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/evaluations").WithTags("Evaluations");
        api.MapGet("/", ListEvaluations).WithName("ListEvaluations").WithSummary("Evaluations (bon-eval runs and imported samples), newest first.");
        api.MapGet("/diff", Diff).WithName("DiffEvaluations")
            .WithSummary("Per-prompt diff of two evaluations aligned by prompt key: gained, lost, unchanged (by = pass1 | passn | bon | maj).");
        api.MapGet("/{runId:int}", GetEvaluation).WithName("GetEvaluation").WithSummary("Temperatures, verifiers (score layers), prompts and n.");
        api.MapGet("/{runId:int}/metrics", GetMetrics).WithName("GetEvaluationMetrics")
            .WithSummary("pass@k, BoN@k per verifier and maj@k for every k = 1..n with 95% intervals over prompts, at one temperature.");
        api.MapGet("/{runId:int}/prompts", ListPrompts).WithName("ListEvaluationPrompts")
            .WithSummary("Paged prompts with per-prompt stats; filter = all | solved | unsolved | missed, search, difficulty.");
        api.MapGet("/{runId:int}/prompts/{setId:long}", GetPrompt).WithName("GetEvaluationPrompt")
            .WithSummary("One prompt's N samples with verdicts, scores, answer clusters and Best-of-k pick probabilities.");
        api.MapPost("/{runId:int}/rescore", Rescore).WithName("RescoreEvaluation")
            .WithSummary("Adds a score layer for another verifier (oracle, noisy-oracle) to the stored samples; nothing is re-sampled.");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<EvaluationSummary>>> ListEvaluations([FromServices] EvaluationService evals, CancellationToken ct) =>
        TypedResults.Ok(await evals.ListAsync(ct));

    public static async Task<Results<Ok<EvaluationSummary>, NotFound<ProblemDetails>>> GetEvaluation(int runId, [FromServices] EvaluationService evals, CancellationToken ct) =>
        await evals.GetAsync(runId, ct) is { } e ? TypedResults.Ok(e) : NotFound($"evaluation {runId} does not exist");

    public static Task<Results<Ok<EvaluationCurves>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> GetMetrics(
        int runId, [FromServices] EvaluationService evals, CancellationToken ct, double? temperature = null) =>
        Guard(() => evals.CurvesAsync(runId, temperature, ct));

    public static Task<Results<Ok<PromptPage>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> ListPrompts(
        int runId, [AsParameters] PromptQueryParameters q, [FromServices] EvaluationService evals, CancellationToken ct) =>
        Guard(() => evals.PromptsAsync(runId, q.ToQuery(), ct));

    public static Task<Results<Ok<PromptDetail>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> GetPrompt(
        int runId, long setId, [FromServices] EvaluationService evals, CancellationToken ct, string? verifier = null, int? k = null) =>
        Guard(() => evals.PromptAsync(runId, setId, verifier, k, ct));

    public static Task<Results<Ok<DiffResult>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> Diff(
        [AsParameters] DiffQueryParameters q, [FromServices] EvaluationService evals, CancellationToken ct) =>
        Guard(() => evals.DiffAsync(new DiffQuery(q.A, q.B, q.TemperatureA, q.TemperatureB, q.By ?? "passn", q.Verifier), ct));

    public static Task<Results<Ok<RescoreResult>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> Rescore(
        int runId, RescoreRequest request, [FromServices] EvaluationService evals, CancellationToken ct) =>
        Guard(() => evals.RescoreAsync(runId, request, null, ct));

    /// <summary>Maps the service's exceptions: not found → 404, bad input → 400 (both as problem details naming the field).</summary>
    private static async Task<Results<Ok<T>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> Guard<T>(Func<Task<T>> action)
    {
        try { return TypedResults.Ok(await action()); }
        catch (EvaluationNotFoundException e) { return NotFound(e.Message); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or FileNotFoundException or InvalidDataException) { return TypedResults.BadRequest(new ProblemDetails { Title = "Invalid request", Detail = e.Message, Status = 400 }); }
    }

    private static NotFound<ProblemDetails> NotFound(string detail) =>
        TypedResults.NotFound(new ProblemDetails { Title = "Not found", Detail = detail, Status = 404 });
}

/// <summary>Query string of GET /api/evaluations/{runId}/prompts.</summary>
public sealed record PromptQueryParameters(double? Temperature = null, string? Search = null, string? Filter = null, int? Difficulty = null,
    string? Verifier = null, int Page = 0, int PageSize = 50)
{
    public PromptQuery ToQuery() => new()
    {
        Temperature = Temperature, Search = Search, Filter = Filter ?? "all", Difficulty = Difficulty, Verifier = Verifier, Page = Page, PageSize = PageSize,
    };
}

/// <summary>Query string of GET /api/evaluations/diff.</summary>
public sealed record DiffQueryParameters(int A, int B, double? TemperatureA = null, double? TemperatureB = null, string? By = null, string? Verifier = null);
