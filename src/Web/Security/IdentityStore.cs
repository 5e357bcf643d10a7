// Accounts and API tokens: ASP.NET Core Identity's EF Core stores plus an ApiTokens table, in their own context
// (same database as BonStudioDb, separate tables). The tables are created on first start for whichever provider
// is configured (CreateTables on the relational creator); a later schema change gets its own migration.
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace BonStudio.Web.Security;

/// <summary>A bearer token for scripts and the CLI. Only its SHA-256 is stored; the secret is shown once.</summary>
public class ApiToken
{
    public int Id { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-case hex SHA-256 of the whole token string.</summary>
    public required string Hash { get; set; }
    /// <summary>Space-separated scopes: "read", "write" (write implies read). Empty = no rights.</summary>
    public string Scopes { get; set; } = "";
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

public sealed class BonStudioIdentityDb(DbContextOptions<BonStudioIdentityDb> options) : IdentityDbContext<IdentityUser>(options)
{
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.Entity<ApiToken>(t =>
        {
            t.HasIndex(x => x.Hash).IsUnique();
            t.Property(x => x.Hash).HasMaxLength(64);
            t.Property(x => x.Name).HasMaxLength(200);
            t.Property(x => x.UserId).HasMaxLength(450);
            t.Property(x => x.Scopes).HasMaxLength(100);
        });
    }

    /// <summary>Creates the Identity and token tables if this database has none yet (idempotent).</summary>
    public async Task EnsureTablesAsync(CancellationToken ct = default)
    {
        try
        {
            await ApiTokens.AnyAsync(ct);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException) { ChangeTracker.Clear(); }
        var creator = this.GetService<IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync(ct)) await creator.CreateAsync(ct);
        try { await creator.CreateTablesAsync(ct); }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            ChangeTracker.Clear();
            if (!await TablesExistAsync(ct)) throw; // else another process created them at the same moment
        }
    }

    private async Task<bool> TablesExistAsync(CancellationToken ct)
    {
        try { await ApiTokens.AnyAsync(ct); return true; }
        catch (Exception e) when (e is not OperationCanceledException) { return false; }
    }
}

public static class ApiTokens
{
    public const string Prefix = "bst_";
    public const string ReadScope = "read";
    public const string WriteScope = "write";

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A new random token (256 bits), e.g. <c>bst_3q2...</c>.</summary>
    public static string NewSecret() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Normalises requested scopes; throws for unknown ones.</summary>
    public static string NormalizeScopes(IEnumerable<string> scopes)
    {
        var list = scopes.SelectMany(s => s.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).Select(s => s.ToLowerInvariant()).Distinct().ToList();
        var unknown = list.Where(s => s is not (ReadScope or WriteScope)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown token scope(s): {string.Join(", ", unknown)} (known: read, write)");
        return string.Join(' ', list.Order());
    }
}

/// <summary>Creates, lists and revokes API tokens.</summary>
public sealed class ApiTokenService(IDbContextFactory<BonStudioIdentityDb> dbFactory)
{
    /// <summary>Stores a new token for <paramref name="userId"/> and returns its secret (the only time it is visible).</summary>
    public async Task<(int Id, string Secret)> CreateAsync(string userId, string name, IEnumerable<string> scopes, CancellationToken ct = default)
    {
        var normalized = ApiTokens.NormalizeScopes(scopes);
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200) throw new ArgumentException("token name: 1 to 200 characters");
        var secret = ApiTokens.NewSecret();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = new ApiToken { UserId = userId, Name = name.Trim(), Hash = ApiTokens.Hash(secret), Scopes = normalized };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return (token.Id, secret);
    }

    public async Task<List<ApiToken>> ListAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderBy(t => t.Id).ToListAsync(ct);
    }

    public async Task<bool> RevokeAsync(string userId, int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiTokens.Where(t => t.Id == id && t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, DateTime.UtcNow), ct) == 1;
    }
}
