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

    [Fact]
    public void BandAtEachStepUsesTheSeedsThatLoggedThatStep()
    {
        // Seeds A and B log steps 1 and 2; seed C stopped after step 1.
        IReadOnlyList<MetricPointDto> a = [new(1, 1.0), new(2, 4.0)], b = [new(1, 3.0), new(2, 6.0)], c = [new(1, 2.0)];
        var band = SeedStatistics.Band([a, b, c]);

        Assert.Equal([1L, 2L], band.Select(p => p.Step));
        // step 1: 1,2,3 → mean 2, half-width t(2)·1/√3
        Assert.Equal(3, band[0].Count);
        Assert.Equal(2.0, band[0].Mean, 12);
        Assert.Equal(2.0 - 4.3027 / Math.Sqrt(3), band[0].Low!.Value, 4);
        Assert.Equal(2.0 + 4.3027 / Math.Sqrt(3), band[0].High!.Value, 4);
        // step 2: 4,6 → mean 5, sd √2, half-width t(1)·√2/√2 = 12.7062
        Assert.Equal(2, band[1].Count);
        Assert.Equal(5.0, band[1].Mean, 12);
        Assert.Equal(5.0 + 12.7062, band[1].High!.Value, 4);
    }

    [Fact]
    public void BandOfASingleSeedIsItsCurveWithoutAnInterval()
    {
        var band = SeedStatistics.Band([[new MetricPointDto(5, 0.25), new MetricPointDto(10, 0.5)]]);
        Assert.All(band, p => { Assert.Equal(1, p.Count); Assert.Null(p.Low); Assert.Null(p.High); });
        Assert.Equal([0.25, 0.5], band.Select(p => p.Mean));
        Assert.Empty(SeedStatistics.Band([]));
    }
}
