// The filter language parser: accepted forms, precedence, and errors that name the position.
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests.Experiments;

public class RunFilterExpressionTests
{
    [Fact]
    public void ParsesConfigAliasAndNamespacedMetricWithScientificNumbers()
    {
        var node = RunFilterExpression.Parse("lr < 1e-3 and bon/bon_at_32 > 0.4");

        var and = Assert.IsType<AndNode>(node);
        var left = Assert.IsType<CompareNode>(and.Left);
        Assert.Equal(new FilterField(FieldSource.Config, "learningRate"), left.Field);
        Assert.Equal(FilterOp.Less, left.Op);
        Assert.Equal(1e-3, left.Value);
        var right = Assert.IsType<CompareNode>(and.Right);
        Assert.Equal(new FilterField(FieldSource.Metric, "bon/bon_at_32"), right.Field);
        Assert.Equal(FilterOp.Greater, right.Op);
        Assert.Equal(0.4, right.Value);
    }

    [Fact]
    public void ExplicitPrefixesColumnsStringsAndBooleans()
    {
        var node = (AndNode)RunFilterExpression.Parse("config.learningRate <= 0.002 AND metric.accuracy >= 0.3");
        Assert.Equal(new FilterField(FieldSource.Config, "learningRate"), ((CompareNode)node.Left).Field);
        Assert.Equal(new FilterField(FieldSource.Metric, "accuracy"), ((CompareNode)node.Right).Field);

        var kind = Assert.IsType<CompareNode>(RunFilterExpression.Parse("kind = \"bon-eval\""));
        Assert.Equal(new FilterField(FieldSource.Column, "kind"), kind.Field);
        Assert.Equal("bon-eval", kind.Value);
        var starred = Assert.IsType<CompareNode>(RunFilterExpression.Parse("starred == true"));
        Assert.Equal(true, starred.Value);
        var nested = Assert.IsType<CompareNode>(RunFilterExpression.Parse("config.optimizer.beta1 != 0.9"));
        Assert.Equal("optimizer.beta1", nested.Field.Name);
        Assert.Equal(FilterOp.NotEqual, nested.Op);
        Assert.Equal(-2.5, Assert.IsType<CompareNode>(RunFilterExpression.Parse("eval/return>-2.5")).Value);
    }

    [Fact]
    public void NotBindsTighterThanAndWhichBindsTighterThanOr()
    {
        // a or b and not c  ==  a or (b and (not c))
        var or = Assert.IsType<OrNode>(RunFilterExpression.Parse("steps > 1 or seed = 2 and not eval/x < 3"));
        Assert.IsType<CompareNode>(or.Left);
        var and = Assert.IsType<AndNode>(or.Right);
        Assert.IsType<NotNode>(and.Right);

        // Parentheses override: (a or b) and c
        var grouped = Assert.IsType<AndNode>(RunFilterExpression.Parse("(steps > 1 or seed = 2) and eval/x < 3"));
        Assert.IsType<OrNode>(grouped.Left);
    }

    [Theory]
    [InlineData("lr <", 4, "Expected a value")]
    [InlineData("lr 0.1", 3, "Expected a comparison")]
    [InlineData("lr < 0.1 and", 12, "Expected a field name")]
    [InlineData("(lr < 0.1", 9, "Expected ')'")]
    [InlineData("lr < 0.1 eval/x > 1", 9, "Unexpected 'eval/x'")]
    [InlineData("lr < 1e", 5, "is not a number")]
    [InlineData("eval/acc > \"high\"", 11, "only be compared with a number")]
    [InlineData("name = 'abc", 7, "Unterminated string")]
    [InlineData("lr ! 3", 3, "'!' must be followed")]
    [InlineData("lr < 3 ; drop", 7, "Unexpected character ';'")]
    [InlineData("config.a-b < 3", 7, "not a config field name")]
    [InlineData("starred = 1", 10, "true or false")]
    public void InvalidExpressionsReportWhatAndWhere(string text, int position, string message)
    {
        var e = Assert.Throws<RunFilterException>(() => RunFilterExpression.Parse(text));
        Assert.Equal(position, e.Position);
        Assert.Contains(message, e.Message);
        Assert.Contains($"position {position + 1}", e.Message);
    }

    [Fact]
    public void BlankIsNoFilterAndTryParseReturnsTheError()
    {
        Assert.True(RunFilterExpression.TryParse("  ", out var none, out _));
        Assert.Null(none);
        Assert.False(RunFilterExpression.TryParse("lr <", out _, out var error));
        Assert.Equal(4, error!.Position);
    }

    [Fact]
    public void ValuesBecomeParametersNeverSqlText()
    {
        var ps = new List<object>();
        var sql = RunFilterSql.ToSql(RunFilterExpression.Parse("name = \"x'); DROP TABLE Runs; --\" and eval/acc > 0.5"), ps);
        Assert.DoesNotContain("DROP", sql);
        Assert.Contains("x'); DROP TABLE Runs; --", ps);
        Assert.Contains("eval/acc", ps);
    }
}
