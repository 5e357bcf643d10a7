// BonStudio's executable. No verb (or `serve`, or only host options such as --urls): the web app (UI, REST API,
// Hangfire workers) on http://localhost:5000. Other verbs (run, runs, worker, ...) run and exit: Cli/BonStudioCli.cs.
using BonStudio.Web.Cli;
using BonStudio.Web.Extensions;

if (!BonStudioCli.IsServe(args))
    return await BonStudioCli.InvokeAsync(args);

var builder = WebApplication.CreateBuilder(BonStudioCli.WebOptions(BonStudioCli.ServeArgs(args)));
builder.AddBonStudio();
var app = builder.Build();
app.MapBonStudio();
await app.RunAsync();
return 0;

public partial class Program { }
