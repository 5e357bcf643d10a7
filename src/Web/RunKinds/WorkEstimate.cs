// What a run will do, counted from its config before launch (issue #7: "an estimate of the work before launch"):
// optimizer steps, sampled responses, simulator steps. Counts, not seconds: time depends on the device, counts do not.
namespace BonStudio.Web.RunKinds;

/// <summary>One counted quantity, e.g. (sampled responses, 6 400).</summary>
public sealed record WorkAmount(string What, long Amount);

/// <summary>The work of one run (or, summed, of a sweep), in the order the kind lists it.</summary>
public sealed record WorkEstimate(IReadOnlyList<WorkAmount> Amounts)
{
    public static WorkEstimate Of(params (string What, long Amount)[] amounts) =>
        new(amounts.Where(a => a.Amount > 0).Select(a => new WorkAmount(a.What, a.Amount)).ToList());

    /// <summary>The sum of several runs' estimates, quantity by quantity (a sweep's total).</summary>
    public static WorkEstimate Sum(IEnumerable<WorkEstimate> estimates) =>
        new(estimates.SelectMany(e => e.Amounts).GroupBy(a => a.What, StringComparer.Ordinal)
            .Select(g => new WorkAmount(g.Key, g.Sum(a => a.Amount))).ToList());

    /// <summary>e.g. "1,500 optimizer steps · 48,000 training sequences".</summary>
    public override string ToString() =>
        string.Join(" · ", Amounts.Select(a => $"{a.Amount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} {a.What}"));
}
