// REST API of imports (issue #3 item 7): POST a JSONL file as the raw body (or as a multipart form file).
// A malformed line → 400 naming the line, nothing stored; a body over EvaluationOptions.MaxUploadBytes → 413.
using BonStudio.Training.Tasks;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Api;

public static class ImportsApi
{
    public static IEndpointRouteBuilder MapImportsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/imports").WithTags("Imports");
        api.MapPost("/samples", ImportSamples).WithName("ImportSamples").DisableAntiforgery()
            .WithSummary("Import samples JSONL {prompt_id, prompt, response, answer, correct, score, [model], [temperature]} as an evaluation.");
        api.MapPost("/datasets", ImportDataset).WithName("ImportDataset").DisableAntiforgery()
            .WithSummary("Import a data set JSONL (format = gsm8k | math | qa | humaneval) as Dataset + Problems.");
        return app;
    }

    public static async Task<Results<Created<ImportSamplesResult>, BadRequest<ProblemDetails>, ProblemHttpResult>> ImportSamples(
        HttpContext http, [FromServices] EvaluationImports imports, [FromServices] IOptions<EvaluationOptions> options, CancellationToken ct, string? name = null)
    {
        var (text, fileName, problem) = await ReadUploadAsync(http, options.Value.MaxUploadBytes, ct);
        if (problem is not null) return problem;
        try
        {
            var result = await imports.ImportSamplesAsync(new StringReader(text!), name, fileName ?? "upload.jsonl", ct);
            return TypedResults.Created($"/api/evaluations/{result.RunId}", result);
        }
        catch (Exception e) when (e is JsonlFormatException or ArgumentException) { return Bad(e.Message); }
    }

    public static async Task<Results<Created<ImportDatasetResult>, BadRequest<ProblemDetails>, ProblemHttpResult>> ImportDataset(
        HttpContext http, [FromServices] EvaluationImports imports, [FromServices] IOptions<EvaluationOptions> options, CancellationToken ct,
        string? format = null, string? name = null)
    {
        if (string.IsNullOrWhiteSpace(format)) return Bad("format: required (gsm8k, math, qa or humaneval)");
        if (string.IsNullOrWhiteSpace(name)) return Bad("name: required");
        var (text, fileName, problem) = await ReadUploadAsync(http, options.Value.MaxUploadBytes, ct);
        if (problem is not null) return problem;
        try
        {
            var result = await imports.ImportDatasetAsync(new StringReader(text!), format, name, fileName, ct);
            return TypedResults.Created($"/api/datasets/{result.DatasetId}", result);
        }
        catch (Exception e) when (e is JsonlFormatException or ArgumentException) { return Bad(e.Message); }
    }

    /// <summary>Reads the body (raw, or the first file of a multipart form) as UTF-8, refusing more than <paramref name="limit"/> bytes.</summary>
    internal static async Task<(string? Text, string? FileName, ProblemHttpResult? Problem)> ReadUploadAsync(HttpContext http, long limit, CancellationToken ct)
    {
        if (http.Request.ContentLength is long length && length > limit) return (null, null, TooLarge(limit));
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit + 1024 * 1024;
        Stream body;
        string? fileName = null;
        if (http.Request.HasFormContentType)
        {
            var form = await http.Request.ReadFormAsync(ct);
            var file = form.Files.FirstOrDefault();
            if (file is null) return (null, null, TypedResults.Problem("the form has no file", statusCode: 400, title: "Invalid request"));
            if (file.Length > limit) return (null, null, TooLarge(limit));
            body = file.OpenReadStream();
            fileName = Path.GetFileName(file.FileName);
        }
        else body = http.Request.Body;

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        try
        {
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > limit) return (null, null, TooLarge(limit));
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge) { return (null, null, TooLarge(limit)); }
        if (buffer.Length == 0) return (null, null, TypedResults.Problem("the request body is empty: send the JSONL file as the body or as a form file", statusCode: 400, title: "Invalid request"));
        return (System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), fileName, null);
    }

    private static ProblemHttpResult TooLarge(long limit) => TypedResults.Problem(
        $"the upload is larger than the limit of {limit} bytes (EvaluationOptions:MaxUploadBytes)", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Upload too large");

    internal static BadRequest<ProblemDetails> Bad(string detail) =>
        TypedResults.BadRequest(new ProblemDetails { Title = "Invalid import", Detail = detail, Status = 400 });
}
