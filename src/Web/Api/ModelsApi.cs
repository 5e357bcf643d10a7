// REST API of models (checkpoints trained by runs or imported).
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Api;

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/models").WithTags("Models");
        api.MapGet("/", ListModels).WithName("ListModels").WithSummary("Model checkpoints, newest first (page is 0-based).");
        api.MapPost("/import", ImportModel).WithName("ImportModel").DisableAntiforgery()
            .WithSummary("Import a model from a server-side path under ModelImportOptions:AllowedRoots: {path, tokenizerPath?, name?}. " +
                         "path = llama2.c .bin (tokenizer.bin or tok{vocab}.bin beside it), Hugging Face LLaMA/GPT-2 folder, or BonStudio .safetensors.");
        return app;
    }

    public static async Task<Ok<PagedResult<ModelItem>>> ListModels([FromServices] RunService runs, CancellationToken ct, int page = 0, int pageSize = 25) =>
        TypedResults.Ok(await runs.ModelsAsync(page, pageSize, ct));

    public static async Task<Results<Created<ModelItem>, BadRequest<ProblemDetails>>> ImportModel(
        ImportModelRequest request, [FromServices] ModelImports imports, CancellationToken ct)
    {
        try
        {
            var model = await imports.ImportAsync(request, restrictToAllowedRoots: true, ct);
            return TypedResults.Created($"/api/models/{model.Id}", model);
        }
        catch (Exception e) when (ModelImports.IsBadInput(e))
        {
            return TypedResults.BadRequest(new ProblemDetails { Title = "Invalid model import", Detail = e.Message, Status = 400 });
        }
    }
}
