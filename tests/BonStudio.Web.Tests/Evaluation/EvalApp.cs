// Test host for the evaluation tests: the real app on Kestrel (127.0.0.1, port 0) with its own temporary data
// directory (real SQLite, real Hangfire server, real run kinds), plus helpers that write a tiny random GPT checkpoint
// and seed evaluations straight into the database.
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Models;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests.Evaluation;

public sealed class EvalApp : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"bs-eval-{Guid.NewGuid():N}");
    private readonly Dictionary<string, string> _settings;

    public EvalApp(Dictionary<string, string>? settings = null)
    {
        Directory.CreateDirectory(DataDirectory);
        _settings = settings ?? [];
        UseKestrel(0);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("BonStudioOptions:DataDirectory", DataDirectory);
        builder.UseSetting("BonStudioOptions:FlushInterval", "00:00:00.250");
        builder.UseSetting("BonStudioOptions:QueuePollInterval", "00:00:00.500");
        builder.UseSetting("BonStudioOptions:SeedExamples", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
    }

    public Uri Start()
    {
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("[::1]", "127.0.0.1").Replace("localhost", "127.0.0.1") + "/");
    }

    public HttpClient Client(Uri baseAddress) => new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public BonStudioDb Db() => Services.GetRequiredService<IDbContextFactory<BonStudioDb>>().CreateDbContext();

    /// <summary>Writes a tiny random GPT (char tokenizer, context long enough for MiniMath) and registers it as a Model.</summary>
    public int AddTinyModel()
    {
        var path = Path.Combine(DataDirectory, "tiny-gpt.safetensors");
        var config = new GptConfig { VocabSize = CharTokenizer.Instance.VocabSize, ContextLength = MiniMath.MaxChars + 2, Layers = 1, Heads = 2, EmbeddingDim = 16 };
        TorchSharp.torch.manual_seed(5);
        using (var gpt = new Gpt(config))
            Checkpoint.Save(path, gpt, new CheckpointMetadata(Gpt.Architecture, config.ToJson(), CharTokenizer.Instance.Name, 0));
        using var db = Db();
        var model = new Model { Name = "tiny random gpt", Architecture = Gpt.Architecture, Tokenizer = CharTokenizer.Instance.Name, Path = path, Source = "imported", IsFinal = true };
        db.Models.Add(model);
        db.SaveChanges();
        return model.Id;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public static class Wait
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
