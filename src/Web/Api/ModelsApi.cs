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
        return app;
    }

    public static async Task<Ok<PagedResult<ModelItem>>> ListModels([FromServices] RunService runs, CancellationToken ct, int page = 0, int pageSize = 25) =>
        TypedResults.Ok(await runs.ModelsAsync(page, pageSize, ct));
}
