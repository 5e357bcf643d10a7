// The real BonStudio executable as a child PROCESS (dotnet BonStudio.Web.dll ...), for tests that kill it
// (SIGKILL) or stop it (SIGTERM) and start it again: what a crashed or redeployed server looks like.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace BonStudio.Web.Tests;

public sealed class ChildApp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote (stdout and stderr), for assertion messages.</summary>
    public string Output => string.Join('\n', _output);

    private ChildApp(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The folder holding the built BonStudio.Web.dll with its runtimeconfig (the Web project's own output).</summary>
    public static string WebOutputDirectory()
    {
        var testDir = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(testDir, "BonStudio.Web.runtimeconfig.json")) && File.Exists(Path.Combine(testDir, "BonStudio.Web.deps.json")))
            return testDir;
        // tests/BonStudio.Web.Tests/bin/<Configuration>/net10.0/ -> src/Web/bin/<Configuration>/net10.0/
        var tfm = new DirectoryInfo(testDir).Name;
        var configuration = new DirectoryInfo(testDir).Parent!.Name;
        var dir = Path.Combine(RunVerbTests.RepoRoot(), "src", "Web", "bin", configuration, tfm);
        if (!File.Exists(Path.Combine(dir, "BonStudio.Web.dll")))
            throw new FileNotFoundException($"BonStudio.Web.dll not found in {dir} (build src/Web first)");
        return dir;
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts `dotnet BonStudio.Web.dll [verb] --data-dir dir ...settings`. For the web server (no verb) it listens on
    /// a free loopback port and this returns once /api/kinds answers; a worker returns once it printed "worker ... started".</summary>
    public static async Task<ChildApp> StartAsync(string dataDirectory, IDictionary<string, string>? settings = null,
        string? verb = null, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var port = FreePort();
        var dir = WebOutputDirectory();
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(dir, "BonStudio.Web.dll"));
        if (verb is not null) psi.ArgumentList.Add(verb);
        else psi.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        psi.ArgumentList.Add("--data-dir");
        psi.ArgumentList.Add(dataDirectory);
        var all = new Dictionary<string, string>
        {
            ["BonStudioOptions:FlushInterval"] = "00:00:00.250",
            ["BonStudioOptions:QueuePollInterval"] = "00:00:00.500",
            ["BonStudioOptions:HeartbeatTimeout"] = "00:00:06", // short so a killed worker is noticed quickly; not so short that a busy machine looks dead
            ["BonStudioOptions:SeedExamples"] = "false",
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        // Environment variables reach both the web host and the CLI host's configuration (the worker verb parses its own arguments).
        foreach (var (k, v) in all) psi.Environment[k.Replace(":", "__")] = v;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        psi.Environment["DOTNET_NOLOGO"] = "1";

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var app = new ChildApp(process, port);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            app._output.Enqueue(e.Data);
            if (verb == "worker" && e.Data.Contains(" started", StringComparison.Ordinal)) started.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) app._output.Enqueue("ERR " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        if (verb == "worker")
        {
            var finished = await Task.WhenAny(started.Task, process.WaitForExitAsync(), Task.Delay(timeout ?? TimeSpan.FromSeconds(90)));
            if (!started.Task.IsCompleted)
            {
                await app.DisposeAsync();
                throw new TimeoutException($"worker did not start (exited: {process.HasExited})\n{app.Output}");
            }
            return app;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"BonStudio exited with {process.ExitCode} during start-up\n{app.Output}");
            try
            {
                using var response = await http.GetAsync(new Uri(app.BaseAddress, "api/kinds"));
                if (response.IsSuccessStatusCode) return app;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline)
            {
                await app.DisposeAsync();
                throw new TimeoutException($"BonStudio did not answer on {app.BaseAddress} in time\n{app.Output}");
            }
            await Task.Delay(250);
        }
    }

    /// <summary>kill -9: the process gets no chance to clean up (a crashed machine, an OOM kill).</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true); // SIGKILL on Linux
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM (docker stop, systemctl stop) and wait for a graceful exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"process {_process.Id} did not exit within {timeout.TotalSeconds:F0}s of SIGTERM\n{Output}"); }
    }

    public async ValueTask DisposeAsync()
    {
        try { await KillAsync(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
