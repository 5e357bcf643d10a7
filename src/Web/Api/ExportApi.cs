// REST endpoints of exports: streamed CSV/JSON of the runs table, a run's metrics, samples and calibration pairs,
// and the run bundle that `run bundle.json` reproduces.
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Api;

public static class ExportApi
{
    public static IEndpointRouteBuilder MapExportApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Export");
        api.MapGet("/export/runs", ExportRuns).WithName("ExportRuns")
            .WithSummary("All runs matching the list filters (incl. `filter` expression and `sort`), streamed as CSV or JSON (`format=csv|json`).");
        api.MapGet("/runs/{id:int}/export/metrics", (int id, string? format, ExportService e, HttpContext h, CancellationToken ct) => Stream(id, format, "metrics", e.MetricsAsync, e, h, ct))
            .WithName("ExportRunMetrics").WithSummary("Every metric point of a run, streamed as CSV or JSON.");
        api.MapGet("/runs/{id:int}/export/samples", (int id, string? format, ExportService e, HttpContext h, CancellationToken ct) => Stream(id, format, "samples", e.SamplesAsync, e, h, ct))
            .WithName("ExportRunSamples").WithSummary("Every sample of an evaluation run (prompt, text, answer, verdict), streamed as CSV or JSON.");
        api.MapGet("/runs/{id:int}/export/calibration", (int id, string? format, ExportService e, HttpContext h, CancellationToken ct) => Stream(id, format, "calibration", e.CalibrationAsync, e, h, ct))
            .WithName("ExportRunCalibration").WithSummary("A run's (confidence, correct) calibration pairs, streamed as CSV or JSON.");
        api.MapGet("/runs/{id:int}/bundle", Bundle).WithName("GetRunBundle")
            .WithSummary("The run bundle: kind, config (with seed), tags, notes and the reproducibility record; `run bundle.json` re-runs it.");
        return app;
    }

    private static ValidationProblem BadFormat(string? format) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["format"] = [$"The field format must be csv or json; got '{format}'."] });

    private static void Headers(HttpContext http, ExportFormat format, string fileName)
    {
        http.Response.ContentType = format == ExportFormat.Csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}.{(format == ExportFormat.Csv ? "csv" : "json")}\"";
    }

    public static async Task<IResult> ExportRuns(HttpContext http, [FromServices] ExportService export, CancellationToken ct,
        string? format = null, string? kind = null, RunStatus? status = null, string? tag = null, string? text = null,
        string? filter = null, int? experimentId = null, bool? starred = null, bool? archived = null, string? sort = null)
    {
        if (!ExportService.TryParseFormat(format, out var f)) return BadFormat(format);
        if (RunListQuery.CheckSort(sort) is { } sortError) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["sort"] = [sortError] });
        if (!RunFilterExpression.TryParse(filter, out _, out var filterError))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["filter"] = [filterError!.Message] });
        Headers(http, f, "runs");
        await export.RunsAsync(new RunQuery(0, 1, kind, status, tag, text, filter, experimentId, starred, archived, sort), f, http.Response.Body, ct);
        return TypedResults.Empty;
    }

    private static async Task<IResult> Stream(int id, string? format, string what, Func<int, ExportFormat, Stream, CancellationToken, Task> write,
        ExportService export, HttpContext http, CancellationToken ct)
    {
        if (!ExportService.TryParseFormat(format, out var f)) return BadFormat(format);
        if (!await export.RunExistsAsync(id, ct)) return TypedResults.NotFound();
        Headers(http, f, $"run-{id}-{what}");
        await write(id, f, http.Response.Body, ct);
        return TypedResults.Empty;
    }

    public static async Task<Results<Ok<JsonObject>, NotFound>> Bundle(int id, [FromServices] ExportService export, CancellationToken ct) =>
        await export.BundleAsync(id, ct) is { } bundle ? TypedResults.Ok(bundle) : TypedResults.NotFound();
}
