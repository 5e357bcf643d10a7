using System.Reflection;

namespace BonStudio.Training.Runtime;

/// <summary>
/// The code a run executes: the git commit this library was built from, "+dirty" when the tree had uncommitted
/// changes at build time (stamped by build/GitVersion.targets), or "unknown" when built without git.
/// </summary>
public static class CodeVersion
{
    public static string Commit { get; } = Metadata("GitCommit") ?? "unknown";
    public static bool Dirty { get; } = Metadata("GitDirty") == "true";

    /// <summary>e.g. "3f2c1e0a9b…" or "3f2c1e0a9b…+dirty".</summary>
    public static string Describe() => Dirty ? Commit + "+dirty" : Commit;

    private static string? Metadata(string key) =>
        typeof(CodeVersion).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;
}
