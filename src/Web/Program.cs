// Placeholder host; replaced by the Web feature work.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/health", () => "ok");
app.Run();

public partial class Program { }
