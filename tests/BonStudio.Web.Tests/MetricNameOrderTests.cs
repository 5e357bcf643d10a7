using BonStudio.Web.Services;

namespace BonStudio.Web.Tests;

public class MetricNameOrderTests
{
    [Fact]
    public void DigitRunsCompareAsNumbers()
    {
        string[] names = ["test/pass_at_32", "test/bon_at_16", "test/bon_at_2", "eval/accuracy", "test/bon_at_1", "test/bon_at_128"];
        Assert.Equal(
            ["eval/accuracy", "test/bon_at_1", "test/bon_at_2", "test/bon_at_16", "test/bon_at_128", "test/pass_at_32"],
            names.Order(MetricNameOrder.Comparer));
    }
}
