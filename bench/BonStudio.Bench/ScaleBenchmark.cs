// scale: issue #7's scale benchmark. Seeds a SQLite database (ScaleSeeder: 10 000 runs with metric series and final
// metrics, one bon-eval evaluation of 2 000 prompts × 128 samples with scores), starts the real web app on Kestrel
// (loopback, the built BonStudio.Web.dll as a child process, no workers) against it, and measures p50/p95 latency of
// full HTTP GETs (pages as server-rendered HTML, API JSON) with bounded concurrency; then streams the CSV and JSON
// export of all samples while sampling the server's resident memory (VmRSS, /proc) to show it stays bounded.
// Usage: dotnet run -c Release --project bench/BonStudio.Bench -- scale [--web <BonStudio.Web.dll>] [--data <dir>] [--reuse]
//        [--runs 10000] [--prompts 2000] [--n 128] [--requests 40] [--concurrency 4] [--markdown <file>]
// (bench/scale/run.sh builds both projects in Release and runs it.)
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace BonStudio.Bench;

public sealed class ScaleBenchmark : IBenchmark
{
    public string Name => "scale";
    public string Description => "10k runs + 2000×128 samples in SQLite; p50/p95 of pages and API over Kestrel; export memory";

    /// <summary>Target of issue #7: every measured request under this at p95.</summary>
    private const double TargetP95Ms = 300;

    private sealed record Scenario(string Name, string Path, bool Page);

    /// <summary>CpuMs: the server process's CPU time (user + system) per warm request; far less sensitive to other load on
    /// the machine than wall-clock latency, so it is the figure to compare between runs on a shared machine.</summary>
    private sealed record Result(string Name, string Path, int Count, int Errors, double ColdMs, double P50, double P95, double Max, long Bytes, double CpuMs, double ColdCpuMs);

    public async Task RunAsync(string[] args)
    {
        string Arg(string name, string fallback)
        {
            int i = Array.LastIndexOf(args, name); // the last one wins: bench/scale/run.sh passes --web, a caller may override it
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int IntArg(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        var root = FindRepoRoot();
        var web = Path.GetFullPath(Arg("--web", Path.Combine(root, "src/Web/bin/Release/net10.0/BonStudio.Web.dll")));
        if (!File.Exists(web)) throw new FileNotFoundException($"--web: {web} not found; build it first: dotnet build src/Web -c Release", web);
        var dataDir = Path.GetFullPath(Arg("--data", Path.Combine(Path.GetTempPath(), "bonstudio-bench-scale")));
        var config = new ScaleSeedConfig { Runs = IntArg("--runs", 10_000), Prompts = IntArg("--prompts", 2_000), SamplesPerPrompt = IntArg("--n", 128) };
        int requests = IntArg("--requests", 40), concurrency = IntArg("--concurrency", 4);
        var markdownPath = Arg("--markdown", "");
        var dbPath = Path.Combine(dataDir, "bonstudio.db");
        Directory.CreateDirectory(dataDir);

        // ---------------------------------------------------------------------------------------------- seed
        var idsPath = Path.Combine(dataDir, "seed.txt");
        ScaleSeedResult seed;
        if (args.Contains("--reuse") && File.Exists(dbPath) && File.Exists(idsPath))
        {
            var f = File.ReadAllText(idsPath).Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            seed = new ScaleSeedResult((int)f[0], f[1], (int)f[2], (int)f[3], f[4], f[5], (int)f[6], f[7], (int)f[8], TimeSpan.Zero);
            Console.WriteLine($"reusing {dbPath}");
        }
        else
        {
            Console.WriteLine($"seeding {dbPath} ...");
            seed = await ScaleSeeder.SeedAsync(dbPath, config, m => Console.WriteLine("  " + m));
            File.WriteAllText(idsPath, string.Join(",", new long[] { seed.Runs, seed.MetricPoints, seed.Summaries, seed.SampleSets, seed.Samples, seed.Scores, seed.EvaluationRunId, seed.MiddleSetId, seed.MetricRunId }));
        }
        Console.WriteLine($"seeded: {seed.Runs} runs, {seed.MetricPoints} metric points, {seed.Summaries} final metrics, {seed.SampleSets} prompts, " +
            $"{seed.Samples} samples, {seed.Scores} scores; db {new FileInfo(dbPath).Length / 1e6:F0} MB; seeding took {seed.Elapsed.TotalSeconds:F1} s");

        // ---------------------------------------------------------------------------------------------- server
        int port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        using var server = StartServer(web, dataDir, baseUrl);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, AutomaticDecompression = DecompressionMethods.None })
            { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(10) };
            var started = Stopwatch.StartNew();
            await WaitReadyAsync(http, server);
            Console.WriteLine($"server ready at {baseUrl} (pid {server.Id}) after {started.Elapsed.TotalSeconds:F1} s; RSS {Rss(server) / 1e6:F0} MB");

            const string filter = "lr < 1e-3 and " + ScaleSeeder.BonMetric + " > 0.4";
            var f = Uri.EscapeDataString(filter);
            int e = seed.EvaluationRunId;
            long set = seed.MiddleSetId;
            int middlePage = (int)((set - 1) / 50);
            var scenarios = new List<Scenario>
            {
                new("runs page (/runs)", "/runs", true),
                new("runs page, filtered", $"/runs?filter={f}", true),
                new("inspector page, middle prompt", $"/inspector/{e}?set={set}", true),
                new("API runs list (page 0, 50)", "/api/runs?page=0&pageSize=50", false),
                new("API runs list (page 100, 50)", "/api/runs?page=100&pageSize=50", false),
                new("API runs, filter expression", $"/api/runs?pageSize=50&filter={f}", false),
                new("API runs, sort by metric", "/api/runs?pageSize=50&sort=-metric:eval/accuracy", false),
                new("API runs, kind + tag", "/api/runs?pageSize=50&kind=bon-eval&tag=baseline", false),
                new("API run detail", $"/api/runs/{seed.MetricRunId}", false),
                new("API run metrics", $"/api/runs/{seed.MetricRunId}/metrics", false),
                new("API evaluations list", "/api/evaluations", false),
                new("API evaluation summary", $"/api/evaluations/{e}", false),
                new("API evaluation curves (pass/bon/maj@k)", $"/api/evaluations/{e}/metrics", false),
                new("API evaluation prompts (middle page)", $"/api/evaluations/{e}/prompts?page={middlePage}&pageSize=50", false),
                new("API evaluation prompts, unsolved", $"/api/evaluations/{e}/prompts?filter=unsolved&pageSize=50", false),
                new($"API prompt detail ({seed.Samples / Math.Max(1, seed.SampleSets)} samples)", $"/api/evaluations/{e}/prompts/{set}", false),
            };

            var results = new List<Result>();
            foreach (var s in scenarios)
            {
                var r = await MeasureAsync(http, server, s, requests, concurrency);
                results.Add(r);
                Console.WriteLine($"  {r.Name,-42} cold {r.ColdMs,7:F0} ms (cpu {r.ColdCpuMs,6:F0})  p50 {r.P50,6:F0}  p95 {r.P95,6:F0}  max {r.Max,6:F0} ms  cpu {r.CpuMs,6:F1} ms/req  {r.Bytes / 1024.0,7:F0} KiB  {(r.Errors > 0 ? r.Errors + " ERRORS" : "")}");
            }

            // --------------------------------------------------------------------------------------- export memory
            var exports = new List<(string Format, long Bytes, double Seconds, long RssBefore, long RssPeak, long Rows)>();
            foreach (var format in new[] { "csv", "json" })
            {
                GC.Collect();
                long before = Rss(server), peak = before;
                using var cts = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!cts.IsCancellationRequested)
                    {
                        peak = Math.Max(peak, Rss(server));
                        try { await Task.Delay(20, cts.Token); } catch (OperationCanceledException) { }
                    }
                });
                var sw = Stopwatch.StartNew();
                using var response = await http.GetAsync($"/api/runs/{e}/export/samples?format={format}", HttpCompletionOption.ResponseHeadersRead);
                response.EnsureSuccessStatusCode();
                await using var body = await response.Content.ReadAsStreamAsync();
                var buffer = new byte[1 << 16];
                long bytes = 0, newlines = 0;
                int read;
                while ((read = await body.ReadAsync(buffer)) > 0)
                {
                    bytes += read;
                    newlines += buffer.AsSpan(0, read).Count((byte)'\n');
                }
                sw.Stop();
                cts.Cancel();
                await sampler;
                peak = Math.Max(peak, Rss(server));
                // CSV: one header line, one line per sample (sample texts have no newlines); JSON: counted by the server's row objects is not
                // observable here, so rows are reported for CSV only.
                exports.Add((format, bytes, sw.Elapsed.TotalSeconds, before, peak, format == "csv" ? newlines - 1 : -1));
                Console.WriteLine($"  export samples {format,-4}: {bytes / 1e6,7:F1} MB in {sw.Elapsed.TotalSeconds,5:F1} s; server RSS {before / 1e6:F0} MB before, peak {peak / 1e6:F0} MB during (+{(peak - before) / 1e6:F0} MB)" +
                    (format == "csv" ? $"; {newlines - 1} rows" : ""));
            }
            long hwm = Hwm(server);
            Console.WriteLine($"server peak RSS over the whole benchmark (VmHWM): {hwm / 1e6:F0} MB");

            var md = Markdown(seed, dbPath, requests, concurrency, results, exports, hwm, filter);
            Console.WriteLine();
            Console.WriteLine(md);
            if (markdownPath.Length > 0) { File.WriteAllText(markdownPath, md); Console.WriteLine($"(written to {markdownPath})"); }
        }
        finally
        {
            if (!server.HasExited) { server.Kill(entireProcessTree: true); server.WaitForExit(10_000); }
        }
    }

    private static async Task<Result> MeasureAsync(HttpClient http, Process server, Scenario s, int requests, int concurrency)
    {
        // Cold: the first request (caches empty: e.g. the evaluation's per-prompt data is loaded on first use).
        double coldCpuBefore = CpuMs(server);
        var (cold, bytes, coldOk) = await TimeGetAsync(http, s.Path, s.Page);
        double cpuBefore = CpuMs(server);
        var times = new double[requests];
        int errors = coldOk ? 0 : 1, next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var (ms, _, ok) = await TimeGetAsync(http, s.Path, s.Page);
                times[i] = ms;
                if (!ok) Interlocked.Increment(ref errors);
            }
        });
        await Task.WhenAll(workers);
        double cpu = (CpuMs(server) - cpuBefore) / requests;
        Array.Sort(times);
        return new Result(s.Name, s.Path, requests, errors, cold, Percentile(times, 0.50), Percentile(times, 0.95), times[^1], bytes, cpu, cpuBefore - coldCpuBefore);
    }

    /// <summary>The full GET: headers and the whole body read. A page must be the rendered app page (not an error page).</summary>
    private static async Task<(double Ms, long Bytes, bool Ok)> TimeGetAsync(HttpClient http, string path, bool page)
    {
        var sw = Stopwatch.StartNew();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        sw.Stop();
        bool ok = response.IsSuccessStatusCode;
        if (ok && page) ok = Encoding.UTF8.GetString(body).Contains("data-page=", StringComparison.Ordinal);
        if (!ok) Console.Error.WriteLine($"    {(int)response.StatusCode} for {path}: {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(300, body.Length)))}");
        return (sw.Elapsed.TotalMilliseconds, body.LongLength, ok);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static Process StartServer(string webDll, string dataDir, string url)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(webDll)!,
        };
        foreach (var a in new[] { webDll, "--urls", url, "--BonStudioOptions:DataDirectory=" + dataDir, "--BonStudioOptions:RunWorkers=false",
                     "--BonStudioOptions:SeedExamples=false", "--BonStudioOptions:ResumeInterruptedRuns=false" })
            psi.ArgumentList.Add(a);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the web app");
        var log = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.AppendLine(l); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } l) { lock (log) log.AppendLine(l); Console.Error.WriteLine("    [server] " + l); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task WaitReadyAsync(HttpClient http, Process server)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited) throw new InvalidOperationException($"the web app exited with code {server.ExitCode} before it answered");
            try
            {
                using var r = await http.GetAsync("/api/runs?pageSize=1");
                if (r.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException("the web app did not answer within 5 minutes");
    }

    private static long ProcStatus(Process p, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return 0;
    }

    private static long Rss(Process p) => ProcStatus(p, "VmRSS");

    /// <summary>User + system CPU time of the process so far (/proc/pid/stat fields 14 and 15, in clock ticks of 10 ms).</summary>
    private static double CpuMs(Process p)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{p.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd on (the name may hold spaces)
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
        }
        catch (IOException) { return 0; }
    }
    private static long Hwm(Process p) => ProcStatus(p, "VmHWM");

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "BonStudio.sln"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }

    private static string Markdown(ScaleSeedResult seed, string dbPath, int requests, int concurrency, List<Result> results,
        List<(string Format, long Bytes, double Seconds, long RssBefore, long RssPeak, long Rows)> exports, long hwm, string filter)
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
        var sb = new StringBuilder();
        sb.AppendLine($"### Scale benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine($"- {Machine.Describe()}; load average at the end: {load}");
        sb.AppendLine($"- data: {seed.Runs} runs, {seed.MetricPoints} metric points, {seed.Summaries} final metrics; evaluation run {seed.EvaluationRunId}: " +
            $"{seed.SampleSets} prompts, {seed.Samples} samples, {seed.Scores} scores; SQLite file {new FileInfo(dbPath).Length / 1e6:F0} MB");
        sb.AppendLine($"- each row: 1 cold request, then {requests} requests with {concurrency} in flight; full GET (body read); filter `{filter}`");
        sb.AppendLine();
        sb.AppendLine($"| request | cold ms (server CPU ms) | p50 ms | p95 ms | max ms | server CPU ms/req | body KiB | p95 < {TargetP95Ms:F0} ms |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|:-:|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Name} (`{r.Path}`) | {r.ColdMs:F0} ({r.ColdCpuMs:F0}) | {r.P50:F0} | {r.P95:F0} | {r.Max:F0} | {r.CpuMs:F1} | {r.Bytes / 1024.0:F0} | {(r.Errors > 0 ? $"**{r.Errors} errors**" : r.P95 < TargetP95Ms ? "yes" : "**no**")} |");
        sb.AppendLine();
        sb.AppendLine("| export of all samples | size MB | seconds | server RSS before MB | peak RSS during MB | growth MB |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var x in exports)
            sb.AppendLine($"| {x.Format}{(x.Rows >= 0 ? $" ({x.Rows} rows)" : "")} | {x.Bytes / 1e6:F1} | {x.Seconds:F1} | {x.RssBefore / 1e6:F0} | {x.RssPeak / 1e6:F0} | {(x.RssPeak - x.RssBefore) / 1e6:F0} |");
        sb.AppendLine();
        sb.AppendLine($"Server peak RSS over the whole run (VmHWM, includes the inspector's in-memory evaluation cache): {hwm / 1e6:F0} MB.");
        return sb.ToString();
    }
}
