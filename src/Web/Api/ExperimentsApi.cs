// REST API of the runs table beyond plain listing: experiments (named groups of runs), seed groups (mean ± 95%
// t-interval), compare, and annotations (star, archive, tags, notes, experiment).
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Api;

public static class ExperimentsApi
{
    public static IServiceCollection AddBonStudioExperiments(this IServiceCollection services)
    {
        services.AddScoped<RunExplorerService>();
        services.AddScoped<ExperimentService>();
        services.AddScoped<SweepService>();
        services.AddScoped<ExportService>();
        services.AddScoped<RunPresetStore>();
        return services;
    }

    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        app.MapSweepsApi();
        app.MapExportApi();
        app.MapPresetsApi();
        var experiments = app.MapGroup("/api/experiments").WithTags("Experiments");
        experiments.MapGet("/", ListExperiments).WithName("ListExperiments").WithSummary("Experiments (named groups of runs) with their run counts; archived last.");
        experiments.MapGet("/{id:int}", GetExperiment).WithName("GetExperiment").WithSummary("One experiment.");
        experiments.MapPost("/", CreateExperiment).WithName("CreateExperiment").WithSummary("Create an experiment (name unique, 400 names the field).");
        experiments.MapMethods("/{id:int}", ["PATCH"], UpdateExperiment).Accepts<ExperimentRequest>("application/json").WithName("UpdateExperiment")
            .WithSummary("Rename, describe or archive an experiment (members left out are unchanged).");
        var api = app.MapGroup("/api/runs").WithTags("Runs");
        api.MapGet("/groups", ListGroups).WithName("ListRunGroups")
            .WithSummary("Seed groups: runs that differ only by seed, with mean ± 95% Student-t interval per metric over successful seeds; same filters as ListRuns.");
        api.MapGet("/compare", Compare).WithName("CompareRuns")
            .WithSummary("Compare runs (`ids=1,2,3`): config fields that differ, final metrics side by side.");
        api.MapGet("/compare/curves", CompareCurves).WithName("CompareRunCurves")
            .WithSummary("One metric's curves for `ids=1,2,3` grouped by seed group: per group the mean with a 95% t-band over seeds (n per step) and each seed's curve.");
        api.MapMethods("/{id:int}", ["PATCH"], Annotate).Accepts<RunAnnotationUpdate>("application/json").WithName("AnnotateRun")
            .WithSummary("Set a run's starred/archived flags, tags, markdown notes or experiment (0 = none; members left out are unchanged).");
        return app;
    }

    private const string QueryTitle = "The runs query is invalid.";

    public static async Task<Results<Ok<PagedResult<RunGroup>>, ValidationProblem>> ListGroups(
        [FromServices] RunExplorerService explorer, CancellationToken ct,
        int page = 0, int pageSize = 25, string? kind = null, RunStatus? status = null, string? tag = null, string? text = null,
        string? filter = null, int? experimentId = null, bool? starred = null, bool? archived = null)
    {
        try
        {
            return TypedResults.Ok(await explorer.GroupsAsync(new RunQuery(page, pageSize, kind, status, tag, text, filter, experimentId, starred, archived), ct));
        }
        catch (RunFilterException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["filter"] = [e.Message] }, title: QueryTitle,
                extensions: new Dictionary<string, object?> { ["position"] = e.Position });
        }
    }

    /// <summary>"3, 7" → [3, 7]; the error names the field and the bad part (null when fine).</summary>
    private static string? ParseRunIds(string? ids, out List<int> parsed)
    {
        parsed = [];
        foreach (var part in (ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, out var id)) return $"The field ids has '{part}', which is not a run id.";
            parsed.Add(id);
        }
        return parsed.Count is 0 or > RunExplorerService.MaxCompare
            ? $"The field ids must list 1 to {RunExplorerService.MaxCompare} run ids, e.g. ids=3,7." : null;
    }

    public static async Task<Results<Ok<RunComparison>, ValidationProblem, NotFound>> Compare(
        [FromServices] RunExplorerService explorer, CancellationToken ct, string? ids = null)
    {
        if (ParseRunIds(ids, out var parsed) is { } idsError)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["ids"] = [idsError] }, title: QueryTitle);
        return await explorer.CompareAsync(parsed, ct) is { } comparison ? TypedResults.Ok(comparison) : TypedResults.NotFound();
    }

    public static async Task<Results<Ok<IReadOnlyList<GroupCurve>>, ValidationProblem, NotFound>> CompareCurves(
        [FromServices] RunExplorerService explorer, CancellationToken ct, string? ids = null, string? metric = null)
    {
        if (ParseRunIds(ids, out var parsed) is { } idsError)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["ids"] = [idsError] }, title: QueryTitle);
        if (string.IsNullOrWhiteSpace(metric))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["metric"] = ["The field metric is required, e.g. metric=eval/loss."] }, title: QueryTitle);
        return await explorer.GroupCurvesAsync(parsed, metric, ct) is { } curves ? TypedResults.Ok(curves) : TypedResults.NotFound();
    }

    public static async Task<Results<NoContent, ValidationProblem, NotFound>> Annotate(
        int id, [FromBody] RunAnnotationUpdate update, [FromServices] RunExplorerService explorer, CancellationToken ct)
    {
        var errors = await explorer.AnnotateAsync(id, update, ct);
        if (errors is null) return TypedResults.NotFound();
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The run update is invalid.");
        return TypedResults.NoContent();
    }

    public static async Task<Ok<IReadOnlyList<ExperimentItem>>> ListExperiments([FromServices] ExperimentService experiments, CancellationToken ct) =>
        TypedResults.Ok(await experiments.ListAsync(ct));

    public static async Task<Results<Ok<ExperimentItem>, NotFound>> GetExperiment(int id, [FromServices] ExperimentService experiments, CancellationToken ct) =>
        await experiments.GetAsync(id, ct) is { } e ? TypedResults.Ok(e) : TypedResults.NotFound();

    public static async Task<Results<Created<ExperimentItem>, ValidationProblem>> CreateExperiment(ExperimentRequest request,
        [FromServices] ExperimentService experiments, CancellationToken ct)
    {
        var (id, errors) = await experiments.CreateAsync(request, ct);
        if (id is null) return TypedResults.ValidationProblem(errors, title: "The experiment is invalid; nothing was created.");
        return TypedResults.Created($"/api/experiments/{id}", (await experiments.GetAsync(id.Value, ct))!);
    }

    public static async Task<Results<Ok<ExperimentItem>, NotFound, ValidationProblem>> UpdateExperiment(int id, ExperimentRequest request,
        [FromServices] ExperimentService experiments, CancellationToken ct)
    {
        var errors = await experiments.UpdateAsync(id, request, ct);
        if (errors is null) return TypedResults.NotFound();
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The experiment update is invalid; nothing was changed.");
        return TypedResults.Ok((await experiments.GetAsync(id, ct))!);
    }
}
