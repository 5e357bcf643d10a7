// Experiments: named groups of runs (a study, a paper's table). Runs join one at creation (experimentId) or later
// (PATCH /api/runs/{id} with experimentId); the runs list filters by it.
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

public sealed record ExperimentItem(int Id, string Name, string? Description, DateTime CreatedAt, bool Archived, int RunCount);

/// <summary>Create or change an experiment; members left null are unchanged on update.</summary>
public sealed record ExperimentRequest(string? Name = null, string? Description = null, bool? Archived = null);

public sealed class ExperimentService(IDbContextFactory<BonStudioDb> dbFactory)
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 100_000;

    public async Task<IReadOnlyList<ExperimentItem>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Experiments.AsNoTracking().OrderBy(e => e.Archived).ThenByDescending(e => e.Id)
            .Select(e => new ExperimentItem(e.Id, e.Name, e.Description, e.CreatedAt, e.Archived, e.Runs.Count)).ToListAsync(ct);
    }

    public async Task<ExperimentItem?> GetAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Experiments.AsNoTracking().Where(e => e.Id == id)
            .Select(e => new ExperimentItem(e.Id, e.Name, e.Description, e.CreatedAt, e.Archived, e.Runs.Count)).FirstOrDefaultAsync(ct);
    }

    /// <summary>Creates an experiment; returns its id, or the field errors (nothing written then).</summary>
    public async Task<(int? Id, IReadOnlyDictionary<string, string[]> Errors)> CreateAsync(ExperimentRequest request, CancellationToken ct = default)
    {
        var errors = Check(request, creating: true);
        if (errors.Count > 0) return (null, errors);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var name = request.Name!.Trim();
        if (await db.Experiments.AnyAsync(e => e.Name == name, ct))
            return (null, new Dictionary<string, string[]> { ["name"] = [$"An experiment named '{name}' already exists."] });
        var experiment = new Experiment { Name = name, Description = Blank(request.Description), Archived = request.Archived ?? false };
        db.Experiments.Add(experiment);
        await db.SaveChangesAsync(ct);
        return (experiment.Id, errors);
    }

    /// <summary>Renames, re-describes or archives; null when the experiment does not exist.</summary>
    public async Task<IReadOnlyDictionary<string, string[]>?> UpdateAsync(int id, ExperimentRequest request, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var experiment = await db.Experiments.FirstOrDefaultAsync(e => e.Id == id, ct);
        if (experiment is null) return null;
        var errors = Check(request, creating: false);
        if (errors.Count > 0) return errors;
        if (request.Name is { } n)
        {
            var name = n.Trim();
            if (await db.Experiments.AnyAsync(e => e.Name == name && e.Id != id, ct))
                return new Dictionary<string, string[]> { ["name"] = [$"An experiment named '{name}' already exists."] };
            experiment.Name = name;
        }
        if (request.Description is { } d) experiment.Description = Blank(d);
        if (request.Archived is bool a) experiment.Archived = a;
        await db.SaveChangesAsync(ct);
        return errors;
    }

    private static Dictionary<string, string[]> Check(ExperimentRequest r, bool creating)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (creating && string.IsNullOrWhiteSpace(r.Name)) errors["name"] = ["The field name is required."];
        else if (r.Name is { } n && (string.IsNullOrWhiteSpace(n) || n.Trim().Length > MaxNameLength))
            errors["name"] = [$"The field name must have 1 to {MaxNameLength} characters."];
        if (r.Description is { Length: > MaxDescriptionLength }) errors["description"] = [$"The field description must be at most {MaxDescriptionLength} characters."];
        return errors;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
