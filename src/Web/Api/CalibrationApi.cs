// REST API of calibration (issue #5 items 4 and 5): import a calibration JSONL (POST /api/imports/calibration; a bad line
// → 400 naming the line, nothing stored; too large → 413), list the curves (run × source) and compute per-curve reports
// from the raw pairs at request time (GET /api/calibration?runs=1,2&source=...&bins=15&binning=width|mass).
using System.Globalization;
using BonStudio.Data;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Api;

public static class CalibrationApi
{
    public static IEndpointRouteBuilder MapCalibrationApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/imports/calibration", Import).WithTags("Imports").WithName("ImportCalibration").DisableAntiforgery()
            .WithSummary("Import calibration JSONL {confidence, correct, [model], [source], [question_id]} as a calibration-eval run (marked imported).");
        var api = app.MapGroup("/api/calibration").WithTags("Calibration");
        api.MapGet("/", Reports).WithName("CalibrationReports")
            .WithSummary("Per-curve reports (n, accuracy, ece, mce, brier, auroc, bins) of runs × sources, computed from the raw pairs with the chosen estimator.");
        api.MapGet("/curves", Curves).WithName("CalibrationCurves").WithSummary("Every (run, source) with stored calibration pairs.");
        return app;
    }

    public static async Task<Results<Created<ImportCalibrationResult>, BadRequest<ProblemDetails>, ProblemHttpResult>> Import(
        HttpContext http, [FromServices] IDbContextFactory<BonStudioDb> dbFactory, [FromServices] IOptions<EvaluationOptions> options,
        CancellationToken ct, string? name = null)
    {
        var (text, fileName, problem) = await ImportsApi.ReadUploadAsync(http, options.Value.MaxUploadBytes, ct);
        if (problem is not null) return problem;
        try
        {
            var result = await new CalibrationStore(dbFactory).ImportAsync(new StringReader(text!), name, fileName ?? "upload.jsonl", ct);
            return TypedResults.Created($"/api/calibration?runs={result.RunId}", result);
        }
        catch (Exception e) when (e is JsonlFormatException or ArgumentException) { return ImportsApi.Bad(e.Message); }
    }

    public static async Task<Results<Ok<CalibrationReportsResponse>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> Reports(
        [FromServices] IDbContextFactory<BonStudioDb> dbFactory, CancellationToken ct,
        string? runs = null, string? source = null, int bins = 15, string? binning = "width", bool bands = false, long seed = 0)
    {
        var ids = new List<int>();
        foreach (var part in (runs ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) || id < 1) return Bad($"runs: '{part}' is not a run id");
            ids.Add(id);
        }
        if (ids.Count == 0) return Bad("runs: give one or more run ids, e.g. runs=1,2");
        if (ids.Count > 50) return Bad("runs: at most 50 runs");
        if (!CalibrationStore.TryParseBinning(binning, out var b)) return Bad($"binning: must be width or mass, got '{binning}'");
        if (bins is < 1 or > 1000) return Bad($"bins: must be in 1..1000, got {bins}");
        try
        {
            var curves = await new CalibrationStore(dbFactory).ReportsAsync(ids, string.IsNullOrWhiteSpace(source) ? null : source, bins, b, bands, seed, ct);
            return TypedResults.Ok(new CalibrationReportsResponse(bins, b == Binning.Width ? "width" : "mass", CalibrationMetrics.DescribeBinning(bins, b), curves));
        }
        catch (CalibrationNotFoundException e)
        {
            return TypedResults.NotFound(new ProblemDetails { Title = "Not found", Detail = e.Message, Status = 404 });
        }
    }

    public static async Task<Ok<IReadOnlyList<CalibrationCurveInfo>>> Curves([FromServices] IDbContextFactory<BonStudioDb> dbFactory, CancellationToken ct) =>
        TypedResults.Ok(await new CalibrationStore(dbFactory).CurvesAsync(ct));

    private static BadRequest<ProblemDetails> Bad(string detail) =>
        TypedResults.BadRequest(new ProblemDetails { Title = "Invalid request", Detail = detail, Status = 400 });
}

/// <summary>GET /api/calibration: the estimator and one report per curve.</summary>
public sealed record CalibrationReportsResponse(int Bins, string Binning, string Estimator, IReadOnlyList<CalibrationCurveReport> Curves);
