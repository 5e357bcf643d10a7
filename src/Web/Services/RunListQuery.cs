// The runs-table query shared by the page, GET /api/runs and `runs list`: simple filters, the filter expression
// (RunFilterExpression → RunFilterSql, run in the database), sorting by a column or a metric's latest value, paging,
// and the latest metric values of the page's runs (for user-chosen metric columns).
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

public static class RunListQuery
{
    public static bool IsPostgres(BonStudioDb db) => db.Database.ProviderName?.Contains("Npgsql", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The filtered (not yet sorted or paged) runs; throws <see cref="RunFilterException"/> for a bad expression.</summary>
    public static IQueryable<Run> Filtered(BonStudioDb db, RunQuery query)
    {
        IQueryable<Run> q = db.Runs;
        var mentionsArchived = false;
        if (!string.IsNullOrWhiteSpace(query.Filter))
        {
            var node = RunFilterExpression.Parse(query.Filter);
            var parameters = new List<object>();
            var where = RunFilterSql.ToSql(node, parameters, IsPostgres(db));
            // Safe: RunFilterSql emits only fixed SQL, validated identifiers and {n} placeholders; every user value is in `parameters`.
#pragma warning disable EF1002
            q = db.Runs.FromSqlRaw($"SELECT * FROM \"Runs\" AS r WHERE {where}", parameters.ToArray());
#pragma warning restore EF1002
            mentionsArchived = RunFilterSql.MentionsArchived(node);
        }
        q = q.AsNoTracking();
        if (query.Archived is bool archived) q = q.Where(r => r.Archived == archived);
        else if (!mentionsArchived) q = q.Where(r => !r.Archived);
        if (!string.IsNullOrWhiteSpace(query.Kind)) q = q.Where(r => r.Kind == query.Kind);
        if (query.Status is { } status) q = q.Where(r => r.Status == status);
        if (query.ExperimentId is int experimentId) q = q.Where(r => r.ExperimentId == experimentId);
        if (query.Starred is bool starred) q = q.Where(r => r.Starred == starred);
        if (!string.IsNullOrWhiteSpace(query.Tag))
        {
            var needle = "," + query.Tag.Trim() + ",";
            q = q.Where(r => r.Tags.Contains(needle));
        }
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var text = query.Text.Trim();
            q = q.Where(r => r.Name.Contains(text) || (r.Notes != null && r.Notes.Contains(text)) || r.Tags.Contains(text));
        }
        return q;
    }

    /// <summary>Validates a sort key; null when fine, else the reason.</summary>
    public static string? CheckSort(string? sort)
    {
        if (string.IsNullOrWhiteSpace(sort)) return null;
        var key = sort.TrimStart('-');
        if (key.StartsWith("metric:", StringComparison.Ordinal) && key.Length > 7) return null;
        return key is "created" or "name" or "id" or "status" or "kind" or "seed" ? null
            : $"Unknown sort '{sort}'; use created, name, id, status, kind, seed or metric:<name>, with '-' for descending.";
    }

    public static IQueryable<Run> Sorted(BonStudioDb db, IQueryable<Run> q, string? sort)
    {
        if (CheckSort(sort) is { } error) throw new ArgumentException(error, nameof(sort));
        var descending = sort?.StartsWith('-') ?? true;
        var key = string.IsNullOrWhiteSpace(sort) ? "created" : sort.TrimStart('-');
        if (key.StartsWith("metric:", StringComparison.Ordinal))
        {
            var name = key[7..];
            // Runs without the metric go last either way.
            var withMetric = q.OrderBy(r => db.RunSummaries.Any(s => s.RunId == r.Id && s.Name == name) ? 0 : 1);
            var value = (System.Linq.Expressions.Expression<Func<Run, double?>>)(r =>
                db.RunSummaries.Where(s => s.RunId == r.Id && s.Name == name).Select(s => (double?)s.Value).FirstOrDefault());
            return (descending ? withMetric.ThenByDescending(value) : withMetric.ThenBy(value)).ThenByDescending(r => r.Id);
        }
        IOrderedQueryable<Run> ordered = key switch
        {
            "name" => descending ? q.OrderByDescending(r => r.Name) : q.OrderBy(r => r.Name),
            "id" => descending ? q.OrderByDescending(r => r.Id) : q.OrderBy(r => r.Id),
            "status" => descending ? q.OrderByDescending(r => r.Status) : q.OrderBy(r => r.Status),
            "kind" => descending ? q.OrderByDescending(r => r.Kind) : q.OrderBy(r => r.Kind),
            "seed" => descending ? q.OrderByDescending(r => r.Seed) : q.OrderBy(r => r.Seed),
            _ => descending ? q.OrderByDescending(r => r.CreatedAt) : q.OrderBy(r => r.CreatedAt),
        };
        return descending ? ordered.ThenByDescending(r => r.Id) : ordered.ThenBy(r => r.Id);
    }

    public static async Task<PagedResult<RunListItem>> ListAsync(BonStudioDb db, RunQuery query, int maxPageSize, CancellationToken ct)
    {
        var pageSize = Math.Clamp(query.PageSize, 1, maxPageSize);
        var page = Math.Max(0, query.Page);
        var q = Filtered(db, query);
        var total = await q.CountAsync(ct);
        var rows = await Sorted(db, q, query.Sort).Skip(page * pageSize).Take(pageSize)
            .Select(r => new
            {
                r.Id, r.Kind, r.Name, r.Status, r.Progress, r.StatusMessage, r.Tags, r.Seed, r.CreatedAt, r.StartedAt, r.FinishedAt,
                r.Starred, r.Archived, r.GroupHash, r.ExperimentId, r.ParentRunId, r.Notes,
            })
            .ToListAsync(ct);
        var ids = rows.Select(r => r.Id).ToList();
        var summaries = ids.Count == 0 ? [] : await db.RunSummaries.AsNoTracking().Where(s => ids.Contains(s.RunId))
            .Select(s => new { s.RunId, s.Name, s.Value }).ToListAsync(ct);
        var byRun = summaries.GroupBy(s => s.RunId).ToDictionary(g => g.Key,
            g => (IReadOnlyDictionary<string, double>)g.ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal));
        var items = rows.Select(r => new RunListItem(r.Id, r.Kind, r.Name, r.Status, r.Progress, r.StatusMessage,
            r.Tags.Split(',', StringSplitOptions.RemoveEmptyEntries), r.Seed, RunService.Utc(r.CreatedAt), RunService.Utc(r.StartedAt), RunService.Utc(r.FinishedAt),
            r.Starred, r.Archived, r.GroupHash, r.ExperimentId, r.ParentRunId, r.Notes,
            byRun.TryGetValue(r.Id, out var m) ? m : new Dictionary<string, double>())).ToList();
        return new PagedResult<RunListItem>(items, total, page, pageSize);
    }
}
