// REST API of sweeps: preview the expansion (count + configs), create (validated; 400 names the grid field), status.
using System.Text.Json;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Api;

public static class SweepsApi
{
    public static IEndpointRouteBuilder MapSweepsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/sweeps").WithTags("Sweeps");
        api.MapPost("/preview", Preview).Accepts<SweepRequest>("application/json").WithName("PreviewSweep")
            .WithSummary("How many runs a sweep (base kind + config, grid of parameter values, seeds) expands into; every child validated, nothing written.");
        api.MapPost("/", Create).Accepts<SweepRequest>("application/json").WithName("CreateSweep")
            .WithSummary("Create a sweep: writes the sweep row and its child runs (ParentRunId = sweep) and queues the children.");
        api.MapGet("/{id:int}", Get).WithName("GetSweep")
            .WithSummary("A sweep's definition and progress (children by status); results: GET /api/runs/groups?filter=parent = {id}.");
        return app;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static async Task<(SweepRequest? Request, ValidationProblem? Problem)> ReadAsync(HttpRequest http, CancellationToken ct)
    {
        try
        {
            var request = await JsonSerializer.DeserializeAsync<SweepRequest>(http.Body, Json, ct);
            if (request is null) return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["The body must be a JSON object."] }));
            return (request, null);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [$"Invalid JSON at {e.Path} (line {e.LineNumber + 1}): {e.Message.Split('.')[0]}."] }, title: "The sweep request is invalid."));
        }
    }

    public static async Task<Results<Ok<SweepPreview>, ValidationProblem>> Preview(HttpRequest http, [FromServices] SweepService sweeps, CancellationToken ct)
    {
        var (request, problem) = await ReadAsync(http, ct);
        if (problem is not null) return problem;
        var (preview, errors) = sweeps.Preview(request!);
        return preview is null ? TypedResults.ValidationProblem(errors, title: "The sweep request is invalid.") : TypedResults.Ok(preview);
    }

    public static async Task<Results<Created<SweepStatus>, ValidationProblem>> Create(HttpRequest http, [FromServices] SweepService sweeps, CancellationToken ct)
    {
        var (request, problem) = await ReadAsync(http, ct);
        if (problem is not null) return problem;
        var result = await sweeps.CreateAsync(request!, enqueue: true, ct);
        if (!result.IsValid) return TypedResults.ValidationProblem(result.Errors, title: "The sweep request is invalid; nothing was queued.");
        var status = await sweeps.StatusAsync(result.SweepId!.Value, ct);
        return TypedResults.Created($"/api/sweeps/{result.SweepId}", status!);
    }

    public static async Task<Results<Ok<SweepStatus>, NotFound>> Get(int id, [FromServices] SweepService sweeps, CancellationToken ct) =>
        await sweeps.StatusAsync(id, ct) is { } s ? TypedResults.Ok(s) : TypedResults.NotFound();
}
