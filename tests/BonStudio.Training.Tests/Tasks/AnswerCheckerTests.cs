// Answer extraction and grading on the real GSM8K and MATH-500 fixtures (Fixtures/*/README.md), plus
// must-match / must-not-match pairs built from real answers by rule-based transformations.
using System.Text.Json;
using System.Text.RegularExpressions;
using BonStudio.Training.Tasks;
using BonStudio.Training.Tasks.Answers;

namespace BonStudio.Training.Tests.Tasks;

public class AnswerCheckerTests
{
    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
    private static List<DatasetItem> Gsm8k() => DatasetImport.Read(new StreamReader(FixturePath("gsm8k/test-200.jsonl")), "gsm8k");
    private static List<DatasetItem> MathItems() => DatasetImport.Read(new StreamReader(FixturePath("math/test-250.jsonl")), "math");

    // ------------------------------------------------------------------------------------------------- GSM8K

    [Fact]
    public void EveryGsm8kReferenceExtractsAndMatchesItselfAndItsNumber()
    {
        var items = Gsm8k();
        Assert.Equal(200, items.Count);
        foreach (var item in items)
        {
            var raw = item.Solution!.Split("#### ")[^1].Trim();
            var number = raw.Replace(",", "");
            Assert.Matches(@"^-?\d+$", number);
            Assert.Equal(number, item.Reference);
            // The full reference solution graded as a response, the bare number, and prose forms.
            Assert.Equal(new GradeResult(number, true), Grader.Grade("gsm8k", item.Solution, item.Solution));
            Assert.True(Grader.Grade("gsm8k", item.Solution, raw).Correct);
            Assert.True(Grader.Grade("gsm8k", item.Solution, $"Adding it up gives {number} in total.").Correct);
            Assert.True(Grader.Grade("gsm8k", item.Solution, $"The answer is ${long.Parse(number):N0}.00 and 3 cents were left").Correct);
            Assert.True(Grader.Grade("gsm8k", item.Reference, $"#### +{number}.0").Correct);
            Assert.False(Grader.Grade("gsm8k", item.Solution, $"#### {long.Parse(number) + 1}").Correct);
            Assert.False(Grader.Grade("gsm8k", item.Solution, "I do not know.").Correct);
        }
        Assert.Contains(items, i => i.Reference == "2125"); // "#### 2,125" in the fixture
    }

    [Theory]
    [InlineData("She pays 3 * 4 = 12 dollars.\n#### 12", "12")]
    [InlineData("#### $1,234.50", "1234.5")]
    [InlineData("So the answer is 7 apples.", "7")]
    [InlineData("The final answer: 8", "8")]
    [InlineData("First 5, then 6, finally 11.", "11")]
    [InlineData("It went down by -3 degrees", "-3")]
    [InlineData("The answer is 18.0", "18")]
    [InlineData("#### 18 dollars\n#### 19", "18")]
    [InlineData("The answer is 20. Check: 20 - 4 = 16", "20")]
    [InlineData("no digits here", null)]
    [InlineData("#### none", null)]
    public void Gsm8kExtractionRules(string response, string? expected) =>
        Assert.Equal(expected, Gsm8kChecker.Instance.ExtractFromResponse(response));

    [Theory]
    [InlineData("1,000", "1000", true)]
    [InlineData("$5", "5", true)]
    [InlineData("5.", "5", true)]
    [InlineData("5.50", "5.5", true)]
    [InlineData("+3", "3", true)]
    [InlineData("-3", "3", false)]
    [InlineData("10 cm", "10", true)]
    [InlineData("0.5", "5", false)]
    [InlineData("1,000", "100", false)]
    public void Gsm8kNumberEquivalence(string a, string b, bool equivalent) =>
        Assert.Equal(equivalent, Gsm8kChecker.Instance.Equivalent(a, b));

    // -------------------------------------------------------------------------------------------------- MATH

    [Fact]
    public void TheLastBoxedOfEveryMathSolutionEqualsItsAnswerExactly()
    {
        var lines = File.ReadAllLines(FixturePath("math/test-250.jsonl"));
        Assert.Equal(250, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var solution = doc.RootElement.GetProperty("solution").GetString()!;
            var answer = doc.RootElement.GetProperty("answer").GetString()!;
            Assert.Equal(answer, MathChecker.LastBoxed(solution));
            Assert.Equal(new GradeResult(answer, true), Grader.Grade("math", solution, solution));
            Assert.True(Grader.Grade("math", answer, $"So the result is $\\boxed{{{answer}}}$.").Correct);
            Assert.False(Grader.Grade("math", answer, $"The result is {answer}.").Correct); // no \boxed: no answer
        }
    }

    [Fact]
    public void MathImportKeepsIdsLevelsSubjectsAndAnswers()
    {
        var items = MathItems();
        Assert.Equal(250, items.Count);
        Assert.All(items, i => Assert.StartsWith("test/", i.Id));
        Assert.All(items, i => Assert.InRange(i.Difficulty!.Value, 1, 5));
        Assert.Equal(22, items.Count(i => i.Difficulty == 1));
        Assert.Equal(7, items.Select(i => i.Subject).Distinct().Count());
        Assert.Equal(250, items.Select(i => i.ContentHash).Distinct().Count());
    }

    [Fact]
    public void DistinctRealMathAnswersAreNotEquivalentExceptByTheRules()
    {
        var answers = MathItems().Select(i => i.Reference).Distinct().ToList();
        var equivalent = new List<string>();
        for (int i = 0; i < answers.Count; i++)
            for (int j = i + 1; j < answers.Count; j++)
                if (MathChecker.Instance.Equivalent(answers[i], answers[j])) equivalent.Add($"{answers[i]} ~ {answers[j]}");
        // Only degree signs and "x=" differ among the pairs that must match.
        Assert.Equal(["90^\\circ ~ 90", "5 ~ x=5", "120^\\circ ~ 120", "30^\\circ ~ 30"], equivalent);
    }

    /// <summary>Rewrites that must never change an answer's meaning, applied to every real answer.</summary>
    public static TheoryData<string> Rewrites() => ["spaces", "dfrac", "leftright", "period", "dollars", "display", "thinspace"];

    [Theory]
    [MemberData(nameof(Rewrites))]
    public void RealMathAnswersStayEquivalentUnderHarmlessRewrites(string rewrite)
    {
        foreach (var answer in MathItems().Select(i => i.Reference).Distinct())
        {
            var rewritten = rewrite switch
            {
                "spaces" => Regex.Replace(answer, @"([=+\-,()])", " $1 "),
                "dfrac" => answer.Replace(@"\frac", @"\dfrac"),
                "leftright" => answer.Replace("(", @"\left(").Replace(")", @"\right)"),
                "period" => answer + ".",
                "dollars" => $"${answer}$",
                "display" => @"\displaystyle " + answer,
                _ => answer.Replace(",", @",\,"),
            };
            Assert.True(MathChecker.Instance.Equivalent(answer, rewritten), $"{rewrite}: '{answer}' vs '{rewritten}'");
            Assert.Equal(MathChecker.Instance.Normalize(answer), MathChecker.Instance.Normalize(MathChecker.Instance.Normalize(answer)));
        }
    }

    [Fact]
    public void IntegerMathAnswersMatchWithUnitsDegreesPercentAndSeparators()
    {
        foreach (var answer in MathItems().Select(i => i.Reference).Where(a => Regex.IsMatch(a, @"^-?\d+$")).Distinct())
        {
            long v = long.Parse(answer);
            foreach (var form in new[] { $"{answer}^\\circ", $"{answer}^{{\\circ}}", $"{answer}\\%", $"{answer}\\text{{ cm}}",
                                         $"{answer} \\mbox{{ units}}", $"{v:N0}", $"{answer}.0", $"x = {answer}", $"\\frac{{{2 * v}}}{{2}}" })
                Assert.True(MathChecker.Instance.Equivalent(answer, form), $"'{answer}' vs '{form}'");
            foreach (var form in new[] { $"{v + 1}", $"{-v - 1}", $"{answer}7", $"\\frac{{{3 * v + 1}}}{{3}}", $"{answer}\\sqrt{{2}}" })
                Assert.False(MathChecker.Instance.Equivalent(answer, form), $"'{answer}' vs '{form}'");
        }
    }

    [Theory]
    [InlineData("0.5", @"\frac{1}{2}", true)]
    [InlineData("0.5", @"\frac12", true)]
    [InlineData(@"\dfrac{1}{2}", "1/2", true)]
    [InlineData(@"\tfrac34", "0.75", true)]
    [InlineData(@"\frac{2}{4}", @"\frac12", true)]
    [InlineData(@"-\frac{35}{9}", @"\frac{-35}{9}", true)]
    [InlineData(@"\frac{270}7\text{ degrees}", @"\frac{270}{7}", true)]
    [InlineData(@"11\sqrt2", @"11\sqrt{2}", true)]
    [InlineData(@"\sqrt[3]{2}", @"\sqrt[3]2", true)]
    [InlineData(@"\frac\pi2", @"\frac{\pi}{2}", true)]
    [InlineData(@"\left( 3, \frac{\pi}{2} \right)", @"(3,\frac{\pi}{2})", true)]
    [InlineData(@"(0.5, 3]", @"(\frac{1}{2},3]", true)]
    [InlineData(@"\text{(C)}", "C", true)]
    [InlineData(@"\text{(C)}", "(C)", true)]
    [InlineData(@"\text{Evelyn}", "evelyn", true)]
    [InlineData(@"\$32,\!348", "32348", true)]
    [InlineData(@"10{,}080", "10080", true)]
    [InlineData(@"\begin{bmatrix} 1 \\ 2 \end{bmatrix}", @"\begin{pmatrix}1\\2\end{pmatrix}", true)]
    [InlineData("5 cm", "5", true)]
    [InlineData("12 square inches", "12", true)]
    [InlineData("3 pi", "3", false)]
    [InlineData(".5", "0.5", true)]
    [InlineData(@"x \in [-2, 7]", "[-2,7]", true)]
    [InlineData(@"4\text{ cm}^2", "4", true)]
    [InlineData(@"\$18.90", "18.9", true)]
    [InlineData(@"\text{(A)}", "A", true)]
    [InlineData(@"\dfrac{\sqrt{2}}{2}", @"\frac{\sqrt2}{2}", true)]
    [InlineData("50\\%", "50", true)]
    [InlineData(@"x \in [-2, 7]", "[-2,7)", false)]
    [InlineData(@"\frac{1}{3}", "0.33", false)]
    [InlineData("5", "-5", false)]
    [InlineData("(1,2)", "(2,1)", false)]
    [InlineData("(3,4]", "(3,4)", false)]
    [InlineData("x^2", "x^3", false)]
    [InlineData(@"2\sqrt{3}", @"3\sqrt{2}", false)]
    [InlineData(@"\frac{1}{0}", "0", false)]
    [InlineData("6-5i", "6+5i", false)]
    [InlineData(@"\text{east}", @"\text{west}", false)]
    [InlineData("5x - 7y + 11z + 4 = 0", "0", false)]
    public void MathEquivalenceRules(string a, string b, bool equivalent)
    {
        Assert.Equal(equivalent, MathChecker.Instance.Equivalent(a, b));
        Assert.Equal(equivalent, MathChecker.Instance.Equivalent(b, a));
    }

    [Theory]
    [InlineData(@"so \boxed{\frac{1}{2}}.", @"\frac{1}{2}")]
    [InlineData(@"\boxed{1} then \boxed{ {a}^{b} }", @" {a}^{b} ")]
    [InlineData(@"\fbox{7}", "7")]
    [InlineData(@"first \boxed{3}, finally \fbox{4}", "4")]
    [InlineData(@"\boxed{\{1, 2\}}", @"\{1, 2\}")]
    [InlineData(@"$\boxed 5$ done", "5")]
    [InlineData(@"\boxed{unclosed {", null)]
    [InlineData("no box here: 5", null)]
    [InlineData("", null)]
    public void LastBoxedIsBraceMatched(string text, string? expected) => Assert.Equal(expected, MathChecker.LastBoxed(text));

    // ---------------------------------------------------------------------------------------- QA, MiniMath

    [Theory]
    [InlineData("Answer: The Eiffel Tower.", "[\"Eiffel Tower\", \"la tour Eiffel\"]", true)]
    [InlineData("la Tour  Eiffel!\nI am fairly sure.", "[\"Eiffel Tower\", \"la tour Eiffel\"]", true)]
    [InlineData("Big Ben", "[\"Eiffel Tower\"]", false)]
    [InlineData("an apple", "Apple", true)]
    [InlineData("Paris, France", "Paris", false)]
    [InlineData("", "Paris", false)]
    public void QaUsesSquadNormalisationAndAnswerLists(string response, string reference, bool correct) =>
        Assert.Equal(correct, Grader.Grade("qa", reference, response).Correct);

    [Fact]
    public void MiniMathThroughTheGrader()
    {
        var p = MiniMath.Generate("test", 1, [3])[0];
        Assert.Equal(new GradeResult(p.Answer, true), Grader.Grade("minimath", MiniMath.Completion(p), MiniMath.Completion(p)));
        Assert.True(Grader.Grade("minimath", p.Answer, $"#### {p.Answer}").Correct);
        Assert.False(Grader.Grade("minimath", p.Answer, $"{p.Answer}").Correct);
        Assert.Throws<ArgumentException>(() => Grader.Grade("latex", "1", "1"));
        var item = DatasetImport.FromMiniMath(p);
        Assert.Equal((p.Id, "minimath", p.Answer, 3), (item.Id, item.Format, item.Reference, item.Difficulty!.Value));
        Assert.True(Grader.Grade(item.Format, item.Reference, item.Solution!).Correct);
    }

    // ------------------------------------------------------------------------------------------------ import

    [Theory]
    [InlineData("gsm8k", "{\"question\": \"q\", \"answer\": \"x\\n#### 4\"}", "{\"question\": \"q2\", \"answer\": \"no marker\"}", "####")]
    [InlineData("gsm8k", "{\"question\": \"q\", \"answer\": \"#### 4\"}", "{\"question\": \"q2\"}", "'answer'")]
    [InlineData("math", "{\"problem\": \"p\", \"answer\": \"4\"}", "{\"problem\": \"p2\", \"solution\": \"no box\"}", "boxed")]
    [InlineData("math", "{\"problem\": \"p\", \"answer\": \"4\"}", "{\"problem\": \"p2\", \"answer\": \"1\", \"level\": \"hard\"}", "'level'")]
    [InlineData("qa", "{\"question\": \"q\", \"answers\": [\"a\"]}", "{\"question\": \"q2\", \"answers\": []}", "'answers'")]
    [InlineData("qa", "{\"question\": \"q\", \"answers\": [\"a\"]}", "{\"question\": \"q2\", \"answers\": [1]}", "'answers'")]
    [InlineData("qa", "{\"question\": \"q\", \"answers\": [\"a\"]}", "{\"question\": \"q2\", \"answers\": [\"b\"]", "JSON")]
    [InlineData("qa", "{\"id\": 1, \"question\": \"q\", \"answers\": [\"a\"]}", "{\"id\": 1, \"question\": \"q2\", \"answers\": [\"b\"]}", "duplicate id")]
    public void MalformedDatasetLinesRejectTheFileWithTheLineNumber(string format, string good, string bad, string mentions)
    {
        var text = $"{good}\n\n{bad}\n";
        var e = Assert.Throws<JsonlFormatException>(() => DatasetImport.Read(new StringReader(text), format));
        Assert.Equal(3, e.LineNumber);
        Assert.Contains(mentions, e.Message);
        Assert.Single(DatasetImport.Read(new StringReader(good), format));
    }

    [Fact]
    public void ImportedItemsCarryReferencesTheGraderAccepts()
    {
        var qa = DatasetImport.Read(new StringReader("{\"question_id\": \"t1\", \"question\": \"Capital of France?\", \"answers\": [\"Paris\", \"Paris, France\"]}"), "qa")[0];
        Assert.Equal("t1", qa.Id);
        Assert.Equal(["Paris", "Paris, France"], qa.AcceptedAnswers);
        Assert.True(Grader.Grade("qa", qa.Reference, "paris, france").Correct);
        var math = DatasetImport.Read(new StringReader("{\"problem\": \"1/2?\", \"solution\": \"It is $\\\\boxed{\\\\frac12}$.\", \"level\": \"Level 2\"}"), "math")[0];
        Assert.Equal(@"\frac12", math.Reference);
        Assert.Equal(2, math.Difficulty);
        Assert.StartsWith("math-", math.Id);
        Assert.True(Grader.Grade("math", math.Reference, @"\boxed{0.5}").Correct);
        Assert.Throws<ArgumentException>(() => DatasetImport.Read(new StringReader(""), "csv"));
    }
}

public class GradeJsonlTests
{
    [Fact]
    public void GradesEveryLineWithTheFormatsChecker()
    {
        var text = "{\"id\": \"a\", \"reference\": \"Half of 8.\\n#### 4\", \"response\": \"8/2 = 4\\n#### 4\"}\n" +
                   "{\"id\": 2, \"reference\": \"4\", \"response\": \"The answer is 5.\"}\n" +
                   "{\"id\": \"c\", \"reference\": \"4\", \"response\": \"I cannot say.\"}\n";
        var lines = GradeJsonl.Grade(new StringReader(text), "gsm8k");
        Assert.Equal([new GradeLine("a", "4", true), new GradeLine("2", "5", false), new GradeLine("c", null, false)], lines);
        Assert.Equal("{\"id\":\"c\",\"extracted\":null,\"correct\":false}", lines[2].ToJson());
        var math = GradeJsonl.Grade(new StringReader("{\"id\": \"m\", \"reference\": \"\\\\frac12\", \"response\": \"$\\\\boxed{0.5}$\"}"), "math");
        Assert.Equal(new GradeLine("m", "0.5", true), math[0]);
    }

    [Fact]
    public void AMalformedLineRejectsTheWholeFile()
    {
        var text = "{\"id\": \"a\", \"reference\": \"4\", \"response\": \"#### 4\"}\n{\"id\": \"b\", \"reference\": \"4\"}\n";
        var e = Assert.Throws<JsonlFormatException>(() => GradeJsonl.Grade(new StringReader(text), "gsm8k"));
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("'response'", e.Message);
    }
}
