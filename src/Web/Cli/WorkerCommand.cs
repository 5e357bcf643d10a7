// `worker`: a Hangfire server only (no UI), taking runs from the queues; worker counts come from configuration.
using System.CommandLine;
using BonStudio.Web.Jobs;

namespace BonStudio.Web.Cli;

public static class WorkerCommand
{
    public static Command Create()
    {
        var cmd = new Command("worker", "Run Hangfire workers only (queues `default` and `train`; counts from BonStudioOptions).");
        cmd.SetAction(async (parse, ct) =>
        {
            using var host = BonStudioCli.BuildCliHost(parse, withWorkers: true);
            await host.Services.GetRequiredService<RunMaintenance>().InitializeAsync(ct);
            parse.InvocationConfiguration.Output.WriteLine($"worker {Services.RunEnvironment.WorkerName} started; Ctrl+C to stop");
            await host.RunAsync(ct);
            return 0;
        });
        return cmd;
    }
}
