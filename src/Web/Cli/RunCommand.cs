// `run <config.json>`: validates the config exactly like the form and the API, stores a run, executes it
// in this process to completion (progress to stdout), prints the run id; exit code 0 only on success.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.Cli;

public static class RunCommand
{
    public const int ExitInvalid = 2;
    public const int ExitFailed = 1;

    public static Command Create()
    {
        var file = new Argument<FileInfo>("config.json") { Description = "Run file: {\"kind\": \"sft\", \"name\": ..., \"config\": {...}, \"tags\": [...]}" };
        var cmd = new Command("run", "Execute a run from a config file in this process, storing everything in the database.") { file };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            var (request, readErrors) = ReadRequest(path);
            if (request is null)
            {
                foreach (var e in readErrors) error.WriteLine(e);
                return ExitInvalid;
            }

            using var host = BonStudioCli.BuildCliHost(parse);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            using var scope = host.Services.CreateScope();
            var runs = scope.ServiceProvider.GetRequiredService<RunService>();
            var created = await runs.CreateAsync(request, enqueue: false, ct);
            if (!created.IsValid)
            {
                error.WriteLine($"{path.Name}: invalid run config, nothing was run:");
                foreach (var line in created.ErrorLines) error.WriteLine("  " + line);
                return ExitInvalid;
            }
            var id = created.RunId!.Value;
            output.WriteLine($"run {id}");
            var status = await scope.ServiceProvider.GetRequiredService<RunExecutor>().ExecuteAsync(id, ct, output);
            var details = await runs.GetAsync(id, CancellationToken.None);
            output.WriteLine($"run {id} {status.ToString().ToLowerInvariant()}");
            foreach (var (name, value) in details!.FinalMetrics) output.WriteLine($"  {name} = {value:G6}");
            foreach (var m in details.Models.Where(m => m.IsFinal)) output.WriteLine($"  model {m.Id}: {m.Path}");
            if (status != RunStatus.Succeeded && details.Error is { } err) error.WriteLine(err);
            return status == RunStatus.Succeeded ? 0 : ExitFailed;
        });
        return cmd;
    }

    /// <summary>Reads a run file; errors name the file and the line (malformed JSON) or the field.</summary>
    public static (CreateRunRequest? Request, IReadOnlyList<string> Errors) ReadRequest(FileInfo path)
    {
        if (!path.Exists) return (null, [$"{path.FullName}: file not found"]);
        using var stream = path.OpenRead();
        var (request, errors) = RunRequestReader.ReadAsync(stream).GetAwaiter().GetResult();
        return (request, errors.SelectMany(e => e.Value.Select(m => e.Key == "body" ? $"{path.Name}: {m}" : $"{e.Key}: {m}")).ToList());
    }
}
