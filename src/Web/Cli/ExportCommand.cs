// `export runs|metrics|samples|calibration|bundle [id] [--format csv|json] [--out FILE] [--filter EXPR]`: the same
// streamed exports as the REST API; a bundle written here is re-run by `run FILE`.
using System.CommandLine;
using System.Text.Json;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.Cli;

public static class ExportCommand
{
    public static Command Create()
    {
        var what = new Argument<string>("what") { Description = "runs | metrics | samples | calibration | bundle" };
        what.AcceptOnlyFromAmong("runs", "metrics", "samples", "calibration", "bundle");
        var id = new Argument<int?>("id") { Description = "Run id (all but `runs`)", Arity = ArgumentArity.ZeroOrOne };
        var format = new Option<string>("--format") { Description = "csv or json", DefaultValueFactory = _ => "csv" };
        var outPath = new Option<string?>("--out") { Description = "Output file (default: standard output)" };
        var filter = new Option<string?>("--filter") { Description = "For `runs`: filter expression, e.g. \"eval/accuracy > 0.4\"" };
        var command = new Command("export", "Export runs, a run's metrics/samples/calibration pairs (CSV/JSON, streamed) or a run bundle.") { what, id, format, outPath, filter };
        command.SetAction(async (parse, ct) =>
        {
            var err = parse.InvocationConfiguration.Error;
            var kind = parse.GetValue(what)!;
            if (!ExportService.TryParseFormat(parse.GetValue(format), out var f)) { err.WriteLine($"--format: must be csv or json; got '{parse.GetValue(format)}'"); return 2; }
            if (kind != "runs" && parse.GetValue(id) is null) { err.WriteLine($"id: `export {kind}` needs a run id"); return 2; }
            if (kind == "runs" && !RunFilterExpression.TryParse(parse.GetValue(filter), out _, out var filterError)) { err.WriteLine($"--filter: {filterError!.Message}"); return 2; }
            using var host = BonStudioCli.BuildCliHost(parse);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            using var scope = host.Services.CreateScope();
            var export = scope.ServiceProvider.GetRequiredService<ExportService>();
            var runId = parse.GetValue(id) ?? 0;
            if (kind != "runs" && !await export.RunExistsAsync(runId, ct)) { err.WriteLine($"id: run {runId} does not exist"); return 1; }

            var path = parse.GetValue(outPath);
            // Standard output of the invocation (a TextWriter): buffer through a memory stream only when no file is given.
            await using Stream target = path is null ? new MemoryStream() : File.Create(path);
            switch (kind)
            {
                case "runs": await export.RunsAsync(new RunQuery(Filter: parse.GetValue(filter)), f, target, ct); break;
                case "metrics": await export.MetricsAsync(runId, f, target, ct); break;
                case "samples": await export.SamplesAsync(runId, f, target, ct); break;
                case "calibration": await export.CalibrationAsync(runId, f, target, ct); break;
                case "bundle":
                    var bundle = await export.BundleAsync(runId, ct);
                    await JsonSerializer.SerializeAsync(target, bundle, new JsonSerializerOptions { WriteIndented = true }, ct);
                    break;
            }
            if (target is MemoryStream ms) parse.InvocationConfiguration.Output.Write(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
            else err.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }
}
