// Benchmark runner. Each benchmark is a class implementing IBenchmark, found by reflection, so adding one
// touches one file. Usage: dotnet run -c Release --project bench/BonStudio.Bench -- <name> [args...]
using System.Reflection;
using BonStudio.Bench;

var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name)
    .ToList();

if (args.Length == 0 || benchmarks.All(b => b.Name != args[0]))
{
    Console.Error.WriteLine("usage: BonStudio.Bench <benchmark> [args...]\n");
    foreach (var b in benchmarks) Console.Error.WriteLine($"  {b.Name,-24} {b.Description}");
    return args.Length == 0 ? 0 : 2;
}
Console.WriteLine(Machine.Describe());
await benchmarks.First(b => b.Name == args[0]).RunAsync(args[1..]);
return 0;

namespace BonStudio.Bench
{
    /// <summary>One benchmark: prints its figures (and the ratios that matter) to stdout.</summary>
    public interface IBenchmark
    {
        string Name { get; }
        string Description { get; }
        Task RunAsync(string[] args);
    }

    public static class Machine
    {
        public static string Describe() =>
            $"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
            $".NET {Environment.Version}, {BonStudio.Training.Runtime.TorchRuntime.Versions}";
    }
}
