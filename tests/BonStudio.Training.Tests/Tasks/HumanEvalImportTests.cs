// HumanEval as an importable data set format: the real fixture (82 tasks, MIT, Fixtures/humaneval/LICENSE.md) parses
// into items whose stored reference rebuilds exactly the tasks CodeTask.LoadJsonl reads; a malformed line rejects the
// whole file naming the line; completions are cut at the Codex stop sequences.
using BonStudio.Training.Tasks;
using BonStudio.Training.Verifiers;

namespace BonStudio.Training.Tests.Tasks;

public class HumanEvalImportTests
{
    private static readonly string FixturePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "humaneval", "humaneval-82.jsonl");

    [Fact]
    public void The_fixture_imports_and_round_trips_to_the_same_code_tasks()
    {
        using var reader = new StreamReader(FixturePath);
        var items = DatasetImport.Read(reader, "humaneval");
        var tasks = CodeTask.LoadJsonl(FixturePath);

        Assert.Equal(82, items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            Assert.Equal("humaneval", items[i].Format);
            var rebuilt = HumanEval.ToTask(items[i].Id, items[i].Prompt, items[i].Reference, items[i].Solution);
            Assert.Equal(tasks[i], rebuilt);
        }
        Assert.Equal(items.Count, items.Select(i => i.ContentHash).Distinct().Count());
    }

    [Theory]
    [InlineData("{\"task_id\": \"t/1\", \"prompt\": \"def f():\\n\", \"canonical_solution\": \"    return 1\\n\", \"test\": \"def check(c):\\n    assert c() == 1\\n\"}", "entry_point")]
    [InlineData("{\"task_id\": \"t/1\", \"prompt\": \"def f():\\n\", \"canonical_solution\": \"    return 1\\n\", \"test\": \"x\", \"entry_point\": \"f(); import os\"}", "not a Python identifier")]
    [InlineData("{\"task_id\": \"t/1\", \"prompt\": \"def f():\\n\", \"canonical_solution\": 3, \"test\": \"x\", \"entry_point\": \"f\"}", "canonical_solution")]
    [InlineData("{\"task_id\": \"t/1\", \"prompt\": \"def f():\\n\", \"canonical_solution\": \"\", \"test\": \"   \", \"entry_point\": \"f\"}", "'test' is empty")]
    [InlineData("not json", "line 2")]
    public void A_malformed_line_rejects_the_whole_file_with_its_line_number(string badLine, string expected)
    {
        var good = File.ReadLines(FixturePath).First();
        var text = good + "\n" + badLine + "\n" + good.Replace("HumanEval/0", "HumanEval/x");
        var e = Assert.Throws<JsonlFormatException>(() => DatasetImport.Read(new StringReader(text), "humaneval"));
        Assert.Equal(2, e.LineNumber);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Completions_are_cut_at_the_first_stop_sequence()
    {
        Assert.Equal("    return a + b\n", HumanEval.Truncate("    return a + b\n\nprint(1)\ndef other():\n    pass"));
        Assert.Equal("    return 1", HumanEval.Truncate("    return 1\n# comment\nclass A: pass"));
        Assert.Equal("    x = 1\n    # inner comment stays\n    return x", HumanEval.Truncate("    x = 1\n    # inner comment stays\n    return x"));
    }
}
