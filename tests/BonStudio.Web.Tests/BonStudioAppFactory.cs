// Starts the real app (Kestrel on 127.0.0.1, port 0) with its own temporary data directory: real SQLite
// databases, real Hangfire server and storage, real run kinds. Hangfire keeps its storage in a static, so
// app-hosting tests never run in parallel (xunit.runner.json) and each factory is disposed before the next.
using System.Net.Http.Json;
using BonStudio.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests;

public class BonStudioAppFactory : WebApplicationFactory<Program>
{
    public string DataDirectory { get; }
    private readonly Dictionary<string, string> _settings;

    public BonStudioAppFactory(Dictionary<string, string>? settings = null, string? dataDirectory = null)
    {
        DataDirectory = dataDirectory ?? TempDirectory.Create("bs-web");
        _settings = settings ?? [];
        UseKestrel(0);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        // UseSetting (not ConfigureAppConfiguration): it reaches WebApplicationBuilder.Configuration before
        // AddBonStudio reads the data directory.
        builder.UseSetting("BonStudioOptions:DataDirectory", DataDirectory);
        builder.UseSetting("BonStudioOptions:FlushInterval", "00:00:00.250");
        builder.UseSetting("BonStudioOptions:QueuePollInterval", "00:00:00.500");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
    }

    /// <summary>Starts Kestrel and returns its base address (http://127.0.0.1:port/).</summary>
    public Uri Start()
    {
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("[::1]", "127.0.0.1").Replace("localhost", "127.0.0.1") + "/");
    }

    public HttpClient Client(Uri baseAddress) => new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public BonStudioDb Db() => Services.GetRequiredService<IDbContextFactory<BonStudioDb>>().CreateDbContext();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        TempDirectory.TryDelete(DataDirectory);
    }
}

public static class TempDirectory
{
    public static string Create(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { } // SQLite/Hangfire may still hold a handle for a moment
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Waiting helpers: poll the real system until a condition holds or time runs out.</summary>
public static class Eventually
{
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last = await probe();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0}s waiting for {what}; last: {last}");
            await Task.Delay(200);
            last = await probe();
        }
        return last;
    }
}
