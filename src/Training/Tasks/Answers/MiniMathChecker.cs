// The MiniMath checker behind the common interface: answer after "####", non-negative integers only.
namespace BonStudio.Training.Tasks.Answers;

public sealed class MiniMathChecker : IAnswerChecker
{
    public static MiniMathChecker Instance { get; } = new();
    public string Format => "minimath";

    public string? ExtractFromResponse(string response) => MiniMath.ExtractAnswer(response);

    public IReadOnlyList<string> ExtractReferences(string referenceOrSolution)
    {
        var answer = referenceOrSolution.Contains(MiniMath.AnswerMarker, StringComparison.Ordinal)
            ? MiniMath.ExtractAnswer(referenceOrSolution)
            : MiniMath.NormaliseInteger(referenceOrSolution.Trim());
        return answer is null ? [] : [answer];
    }

    public string Normalize(string answer) => MiniMath.NormaliseInteger(answer.Trim()) ?? answer.Trim();

    public bool Equivalent(string a, string b) =>
        MiniMath.NormaliseInteger(a.Trim()) is { } x && x == MiniMath.NormaliseInteger(b.Trim());
}
