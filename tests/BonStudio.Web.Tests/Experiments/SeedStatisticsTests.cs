// Mean ± 95% Student-t interval over a seed group.
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests.Experiments;

public class SeedStatisticsTests
{
    [Fact]
    public void IntervalUsesStudentTWithNMinusOneDegreesOfFreedom()
    {
        // values 1,2,3: mean 2, sd 1, n 3 → half-width t(0.975, 2) * 1/sqrt(3) = 4.3027 / 1.7321 = 2.4841
        var a = SeedStatistics.Aggregate([1.0, 2.0, 3.0]);
        Assert.Equal(2.0, a.Mean, 12);
        Assert.Equal(4.3027 / Math.Sqrt(3), a.HalfWidth!.Value, 4);
        Assert.Equal(3, a.Count);
        Assert.Equal(1.0, a.Min);
        Assert.Equal(3.0, a.Max);
        Assert.Equal(2.0 - a.HalfWidth.Value, a.Low);
    }

    [Fact]
    public void SingleSeedHasNoIntervalAndLargeDfApproachesNormal()
    {
        Assert.Null(SeedStatistics.Aggregate([0.7]).HalfWidth);
        Assert.Equal(12.7062, SeedStatistics.TQuantile975(1), 4);
        Assert.Equal(2.0423, SeedStatistics.TQuantile975(30), 4);
        Assert.Equal(2.0211, SeedStatistics.TQuantile975(40), 3); // table value 2.0211
        Assert.Equal(1.9840, SeedStatistics.TQuantile975(100), 3); // table value 1.9840
        Assert.Throws<ArgumentOutOfRangeException>(() => SeedStatistics.TQuantile975(0));
    }
}
