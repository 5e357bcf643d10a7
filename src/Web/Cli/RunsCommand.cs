// `runs list [--json]`, `runs show <id> [--json]`, `runs cancel <id>`: the runs table from the command line.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.Cli;

public static class RunsCommand
{
    public static readonly JsonSerializerOptions JsonOut = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var kind = new Option<string?>("--kind") { Description = "Only this run kind" };
        var status = new Option<RunStatus?>("--status") { Description = "Only this status" };
        var tag = new Option<string?>("--tag") { Description = "Only runs with this tag" };
        var text = new Option<string?>("--text") { Description = "Name, tag or notes contain this text" };
        var filter = new Option<string?>("--filter") { Description = "Filter expression, e.g. \"lr < 1e-3 and eval/accuracy > 0.4\"" };
        var sort = new Option<string?>("--sort") { Description = "created|name|id|status|kind|seed|metric:<name>; '-' prefix = descending" };
        var page = new Option<int>("--page") { Description = "Page (0-based)", DefaultValueFactory = _ => 0 };
        var pageSize = new Option<int>("--page-size") { Description = "Runs per page", DefaultValueFactory = _ => 50 };

        var list = new Command("list", "List runs, newest first.") { json, kind, status, tag, text, filter, sort, page, pageSize };
        list.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var host = BonStudioCli.BuildCliHost(parse);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            using var scope = host.Services.CreateScope();
            if (RunListQuery.CheckSort(parse.GetValue(sort)) is { } sortError) { parse.InvocationConfiguration.Error.WriteLine($"--sort: {sortError}"); return 2; }
            PagedResult<RunListItem> result;
            try
            {
                result = await scope.ServiceProvider.GetRequiredService<RunService>().ListAsync(
                    new RunQuery(parse.GetValue(page), parse.GetValue(pageSize), parse.GetValue(kind), parse.GetValue(status), parse.GetValue(tag), parse.GetValue(text),
                        Filter: parse.GetValue(filter), Sort: parse.GetValue(sort)), ct);
            }
            catch (RunFilterException e)
            {
                var err = parse.InvocationConfiguration.Error;
                err.WriteLine($"--filter: {e.Message}");
                err.WriteLine("  " + parse.GetValue(filter));
                err.WriteLine("  " + new string(' ', e.Position) + "^");
                return 2;
            }
            if (parse.GetValue(json)) { output.WriteLine(JsonSerializer.Serialize(result, JsonOut)); return 0; }
            output.WriteLine($"{"id",5}  {"kind",-12} {"status",-11} {"progress",8}  {"created (UTC)",-19}  name");
            foreach (var r in result.Items)
                output.WriteLine($"{r.Id,5}  {r.Kind,-12} {r.Status.ToString().ToLowerInvariant(),-11} {r.Progress * 100,7:F1}%  {r.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),-19}  {r.Name}");
            output.WriteLine($"{result.Items.Count} of {result.Total} runs (page {result.Page})");
            return 0;
        });

        var showJson = new Option<bool>("--json") { Description = "Print JSON" };
        var showId = new Argument<int>("id") { Description = "Run id" };
        var show = new Command("show", "Show a run: config, status, final metrics, checkpoints.") { showId, showJson };
        show.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var host = BonStudioCli.BuildCliHost(parse);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            using var scope = host.Services.CreateScope();
            var id = parse.GetValue(showId);
            var run = await scope.ServiceProvider.GetRequiredService<RunService>().GetAsync(id, ct);
            if (run is null) { parse.InvocationConfiguration.Error.WriteLine($"id: run {id} does not exist"); return 1; }
            if (parse.GetValue(showJson)) { output.WriteLine(JsonSerializer.Serialize(run, JsonOut)); return 0; }
            output.WriteLine($"run {run.Id}: {run.Name}");
            output.WriteLine($"  kind      {run.Kind}");
            output.WriteLine($"  status    {run.Status.ToString().ToLowerInvariant()} ({run.Progress * 100:F1}%){(run.StatusMessage is null ? "" : " " + run.StatusMessage)}");
            output.WriteLine($"  created   {run.CreatedAt:u}; started {run.StartedAt:u}; finished {run.FinishedAt:u}");
            output.WriteLine($"  seed      {run.Seed}; device {run.Device}; threads {run.Threads}; worker {run.Worker}; code {run.CodeVersion}");
            output.WriteLine($"  hash      {run.ConfigHash}");
            output.WriteLine($"  config    {run.Config.ToJsonString()}");
            if (run.Error is not null) output.WriteLine($"  error     {run.Error.Split('\n')[0]}");
            output.WriteLine("  final metrics:");
            foreach (var (name, value) in run.FinalMetrics) output.WriteLine($"    {name,-28} {value.ToString("G6", CultureInfo.InvariantCulture)}");
            foreach (var m in run.Models) output.WriteLine($"  model {m.Id}: step {m.Step}{(m.IsFinal ? " (final)" : "")} {m.Path}");
            return 0;
        });

        var cancelId = new Argument<int>("id") { Description = "Run id" };
        var cancel = new Command("cancel", "Cancel a queued run or ask a running one to stop.") { cancelId };
        cancel.SetAction(async (parse, ct) =>
        {
            using var host = BonStudioCli.BuildCliHost(parse);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            using var scope = host.Services.CreateScope();
            var outcome = await scope.ServiceProvider.GetRequiredService<RunService>().CancelAsync(parse.GetValue(cancelId), ct);
            parse.InvocationConfiguration.Output.WriteLine(outcome.ToString().ToLowerInvariant());
            return outcome is CancelOutcome.Cancelled or CancelOutcome.Requested ? 0 : 1;
        });

        return new Command("runs", "Inspect and manage stored runs.") { list, show, cancel };
    }
}
