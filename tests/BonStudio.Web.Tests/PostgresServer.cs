// A throwaway PostgreSQL cluster for a test: initdb + pg_ctl from Debian's `postgresql` package, in a temp dir, on a
// free loopback port, run as the `postgres` OS user when the tests run as root. Missing binaries FAIL the test with
// a message saying what to install (never a skip).
using System.Diagnostics;

namespace BonStudio.Web.Tests;

public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _root;
    private readonly bool _asPostgresUser;
    public int Port { get; }

    private PostgresServer(string bin, string root, int port, bool asPostgresUser)
    {
        _bin = bin;
        _root = root;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public string DataDirectory => Path.Combine(_root, "cluster");

    /// <summary>Connection string of database <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=20;Timeout=30";

    public static string FindBinaries()
    {
        var root = "/usr/lib/postgresql";
        var initdb = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => b, StringComparer.Ordinal).FirstOrDefault()
            : null;
        return initdb ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (initdb, pg_ctl). Install them: " +
            "apt-get update && apt-get install -y postgresql  (the scale-out tests need a real PostgreSQL).");
    }

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries();
        var asPostgres = Environment.UserName == "root"; // initdb refuses to run as root
        var root = Path.Combine(Path.GetTempPath(), $"bs-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        if (asPostgres) await RunAsync("chown", ["postgres", root]);
        var server = new PostgresServer(bin, root, ChildApp.FreePort(), asPostgres);
        await server.PgAsync("initdb", ["-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        await server.PgAsync("pg_ctl", ["-D", server.DataDirectory, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {server.Port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"]);
        return server;
    }

    public Task CreateDatabaseAsync(string name) =>
        PgAsync("createdb", ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", name]);

    private Task PgAsync(string tool, string[] args) =>
        _asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args]) : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {p.ExitCode}\n{await stdout}\n{await stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        try { await PgAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]); }
        catch (InvalidOperationException) { }
        TempDirectory.TryDelete(_root);
    }
}
