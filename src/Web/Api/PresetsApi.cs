// REST API of presets: named saved configs per run kind (JSON files under the data directory; see RunPresetStore).
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Api;

public static class PresetsApi
{
    public static IEndpointRouteBuilder MapPresetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/presets").WithTags("Presets");
        api.MapGet("/{kind}", List).WithName("ListPresets").WithSummary("The presets saved for a run kind (name, config, time saved).");
        api.MapGet("/{kind}/{name}", Get).WithName("GetPreset").WithSummary("One preset.");
        api.MapPut("/{kind}/{name}", Save).WithName("SavePreset")
            .WithSummary("Save (or replace) a preset: body {config}; the config is validated like a run's (400 names the field).");
        api.MapDelete("/{kind}/{name}", Delete).WithName("DeletePreset").WithSummary("Delete a preset.");
        return app;
    }

    public static Results<Ok<IReadOnlyList<RunPreset>>, NotFound> List(string kind, [FromServices] RunPresetStore presets, [FromServices] RunService runs) =>
        runs.Kinds().Any(k => k.Name == kind) ? TypedResults.Ok(presets.List(kind)) : TypedResults.NotFound();

    public static Results<Ok<RunPreset>, NotFound> Get(string kind, string name, [FromServices] RunPresetStore presets) =>
        presets.Get(kind, name) is { } p ? TypedResults.Ok(p) : TypedResults.NotFound();

    public static Results<Ok<RunPreset>, ValidationProblem> Save(string kind, string name, [FromBody] SavePresetRequest body, [FromServices] RunPresetStore presets)
    {
        var errors = presets.Save(kind, name, body.Config);
        return errors.Count > 0 ? TypedResults.ValidationProblem(errors, title: "The preset is invalid; nothing was saved.") : TypedResults.Ok(presets.Get(kind, name)!);
    }

    public static Results<NoContent, NotFound> Delete(string kind, string name, [FromServices] RunPresetStore presets) =>
        presets.Delete(kind, name) ? TypedResults.NoContent() : TypedResults.NotFound();
}
