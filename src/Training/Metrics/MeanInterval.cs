// Dataset-level means with a 95% interval over prompts (or over seeds): mean ± t_{0.975, m−1} · sd / √m,
// Student t with m − 1 degrees of freedom (sd with Bessel's correction). With a single value there is no
// interval: HalfWidth is null (never NaN, so the record serialises to JSON).
namespace BonStudio.Training.Metrics;

/// <summary>A mean over <see cref="Count"/> values with the half-width of its 95% t-interval (null when Count &lt; 2).</summary>
public sealed record MeanInterval(double Mean, double? HalfWidth, int Count)
{
    public double? Lower => HalfWidth is { } h ? Mean - h : null;
    public double? Upper => HalfWidth is { } h ? Mean + h : null;

    public static MeanInterval Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int m = values.Count;
        if (m == 0) throw new ArgumentException("no values to average", nameof(values));
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= m;
        if (m < 2) return new MeanInterval(mean, null, m);
        double ss = 0;
        foreach (var v in values) ss += (v - mean) * (v - mean);
        double sd = Math.Sqrt(ss / (m - 1));
        return new MeanInterval(mean, StudentT.Quantile975(m - 1) * sd / Math.Sqrt(m), m);
    }
}

public static class StudentT
{
    private const double Z975 = 1.959963984540054;

    /// <summary>
    /// The 0.975 quantile of Student's t with <paramref name="df"/> degrees of freedom: exact for df = 1, 2;
    /// Cornish–Fisher expansion (Abramowitz &amp; Stegun 26.7.5, four terms) above, within 0.003 of the exact
    /// value at df = 3 and far closer beyond.
    /// </summary>
    public static double Quantile975(int df)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(df, 1);
        if (df == 1) return Math.Tan(Math.PI * 0.475);
        if (df == 2) { const double p = 0.975; return (2 * p - 1) * Math.Sqrt(2.0 / (4 * p * (1 - p))); }
        double x = Z975, x2 = x * x, x3 = x2 * x, x5 = x3 * x2, x7 = x5 * x2, x9 = x7 * x2, v = df;
        double g1 = (x3 + x) / 4;
        double g2 = (5 * x5 + 16 * x3 + 3 * x) / 96;
        double g3 = (3 * x7 + 19 * x5 + 17 * x3 - 15 * x) / 384;
        double g4 = (79 * x9 + 776 * x7 + 1482 * x5 - 1920 * x3 - 945 * x) / 92160;
        return x + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
    }
}
