// MiniMath: generated arithmetic word problems with worked steps and an exact checker (design.md, issue #2 item 4).
//
//   "Ann has 17 apples. She buys 25 more, then gives away 9. How many apples does she have now?"
//   completion: "17+25=42; 42-9=33 #### 33"
//
// Stability across versions: the split of a problem depends only on an FNV-1a hash of its question text
// (80/10/10), never on generation order, so train/validation/test are disjoint by construction and a given
// question text stays in the same split even if templates are added later. Randomness comes from our own
// SplitMix64 (System.Random's sequence is not a documented contract). Ids are the content hash.
// Splits are disjoint by question text, not by arithmetic, as GSM8K's are: a test question is never a training
// question, but it may need an arithmetic fact a training question needed too. Level 1 has only ~15 000
// distinct one-step sums/differences, so a large training set covers most of them (in other words); from
// level 2 on the space is millions of chains and overlaps are negligible. Splitting by the arithmetic instead
// would turn level 1 into a test of generalising addition to unseen facts, which a small CPU-trained model
// cannot learn in minutes, leaving no headroom for Best-of-N studies (tried and reverted, 2026-12-04).
//
// Answer format (the checker is strict): the answer is the text after the FIRST "####" up to the end of that
// line, trimmed; it must be a plain run of decimal digits (no sign, no separators, no decimals). Leading zeros
// are accepted and normalised ("#### 033" counts as 33): the checker grades the arithmetic, not zero padding.
// A missing marker, an empty answer or anything else on the answer line ("33 apples", "33.0", "#### 33 #### 34")
// is wrong.
using System.Text;

namespace BonStudio.Training.Tasks;

/// <summary>One MiniMath problem. <see cref="Solution"/> is the worked steps ("17+25=42; 42-9=33") without the answer marker.</summary>
public sealed record MathProblem(string Id, string Question, string Solution, string Answer, int Level);

public static class MiniMath
{
    /// <summary>Upper bound on <c>Prompt(p).Length + Completion(p).Length</c> for every level (candidates above it are rejected).
    /// A model also needs one more position for its end-of-text token.</summary>
    public const int MaxChars = 190;

    /// <summary>The marker before the final answer, as in GSM8K.</summary>
    public const string AnswerMarker = "####";

    /// <summary>Difficulty levels, easiest first.</summary>
    public static IReadOnlyList<int> Levels { get; } = [1, 2, 3, 4, 5];

    /// <summary>What each level contains (shown in the UI and docs).</summary>
    public static IReadOnlyDictionary<int, string> LevelDescriptions { get; } = new Dictionary<int, string>
    {
        [1] = "1 step: one addition or subtraction of single-digit amounts",
        [2] = "2 steps: additions/subtractions of single-digit amounts",
        [3] = "3 steps: additions/subtractions and one multiplication (packs of items or doubling/tripling), 2 digit numbers",
        [4] = "4 steps: additions/subtractions, at least one multiplication, halving possible, 2-3 digit numbers",
        [5] = "5 steps: additions/subtractions, at least two multiplications or halvings, 2-3 digit numbers",
    };

    public static string DescribeLevel(int level) =>
        LevelDescriptions.TryGetValue(level, out var d) ? d : throw new ArgumentOutOfRangeException(nameof(level), level, "MiniMath levels are 1..5");

    public static IReadOnlyList<string> Splits { get; } = ["train", "validation", "test"];

    /// <summary>
    /// <paramref name="count"/> distinct problems of <paramref name="split"/>, levels taken round-robin from
    /// <paramref name="levels"/> (so the mix is exact). Deterministic in (split, count, levels, seed); a longer
    /// list with the same arguments starts with the shorter one.
    /// </summary>
    public static IReadOnlyList<MathProblem> Generate(string split, int count, IReadOnlyList<int> levels, long seed = 0)
    {
        int splitIndex = SplitIndex(split);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.Count == 0) throw new ArgumentException("at least one level is required", nameof(levels));
        foreach (var l in levels)
            if (l < 1 || l > 5) throw new ArgumentOutOfRangeException(nameof(levels), l, "MiniMath levels are 1..5");

        var rng = new SplitMix64(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ Fnv1a64(split)));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<MathProblem>(count);
        for (int i = 0; i < count; i++)
        {
            int level = levels[i % levels.Count];
            while (true)
            {
                var p = TryMake(level, ref rng);
                if (p is null || SplitOf(p.Question) != splitIndex || !seen.Add(p.Question)) continue;
                result.Add(p);
                break;
            }
        }
        return result;
    }

    /// <summary>The split ("train", "validation" or "test") a question text belongs to: FNV-1a 64 of its UTF-8 bytes, mod 100, 80/10/10.</summary>
    public static string SplitOfQuestion(string question) => Splits[SplitOf(question)];

    /// <summary>The text the model sees before it answers.</summary>
    public static string Prompt(MathProblem p) => p.Question + "\nA: ";

    /// <summary>What the model must learn to produce after the prompt: worked steps, the marker and the answer (no end token).</summary>
    public static string Completion(MathProblem p) => $"{p.Solution} {AnswerMarker} {p.Answer}";

    /// <summary>The normalised final answer after the first "####", or null when there is none or it is not a plain non-negative integer.</summary>
    public static string? ExtractAnswer(string response)
    {
        if (response is null) return null;
        int at = response.IndexOf(AnswerMarker, StringComparison.Ordinal);
        if (at < 0) return null;
        int start = at + AnswerMarker.Length;
        int end = response.IndexOf('\n', start);
        var line = (end < 0 ? response[start..] : response[start..end]).Trim();
        return NormaliseInteger(line);
    }

    /// <summary>True when the response's extracted answer equals the reference answer (both normalised).</summary>
    public static bool IsCorrect(string response, string answer)
    {
        var got = ExtractAnswer(response);
        var want = NormaliseInteger(answer?.Trim() ?? "");
        return got is not null && want is not null && got == want;
    }

    /// <summary>"033" → "33", "0" → "0"; null unless the text is 1..18 ASCII digits.</summary>
    internal static string? NormaliseInteger(string s)
    {
        if (s.Length == 0 || s.Length > 18) return null;
        foreach (char ch in s) if (ch is < '0' or > '9') return null;
        var trimmed = s.TrimStart('0');
        return trimmed.Length == 0 ? "0" : trimmed;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Generation. A problem is a start amount and a list of clauses; each clause adds 1 or 2 equations.

    private enum Op { Add, Sub, PackAdd, PackSub, Scale, Half }

    private static readonly string[] Names =
        ["Ann", "Ben", "Cal", "Dia", "Eve", "Finn", "Gus", "Hana", "Ivy", "Jon", "Kai", "Lea", "Max", "Nia", "Omar",
         "Pia", "Raj", "Sam", "Tess", "Uma", "Vic", "Wes", "Yara", "Zoe", "Mia", "Leo", "Ada", "Tom"];
    private static readonly bool[] NameIsShe =
        [true, false, false, true, true, false, false, true, true, false, false, true, false, true, false,
         true, false, false, true, true, false, false, true, true, true, false, true, false];
    private static readonly string[] Objects =
        ["apples", "pens", "cards", "coins", "books", "shells", "stamps", "marbles", "eggs", "beads",
         "cookies", "stickers", "pencils", "buttons", "nuts", "toys", "rocks", "candies", "plums", "kites"];
    private static readonly string[] Packs = ["packs", "boxes", "bags", "jars"];
    private static readonly string[] Starts = ["{0} has {1} {2}.", "{0} starts with {1} {2}.", "{0} owns {1} {2}.", "At first {0} has {1} {2}."];
    private static readonly string[] AddVerbs = ["buys {0} more", "finds {0}", "gets {0} more", "wins {0}", "is given {0}"];
    private static readonly string[] SubVerbs = ["gives away {0}", "loses {0}", "sells {0}", "uses {0}", "gives {0} to {1}"];
    private static readonly string[] PackAddVerbs = ["buys {0} {2} of {1}", "gets {0} {2} of {1}"];
    private static readonly string[] PackSubVerbs = ["sells {0} {2} of {1}", "gives away {0} {2} of {1}"];
    private static readonly string[] HalfVerbs = ["gives away half", "loses half", "sells half"];
    private static readonly string[] Questions = ["How many {0} does {1} have now?", "How many {0} does {2} have?", "How many {0} now?"];

    private sealed record LevelSpec(int Equations, int MinMultiplicative, int MaxMultiplicative, bool AllowHalf,
        int StartLo, int StartHi, int OperandLo, int OperandHi, int PackCountHi, int PackSizeHi);

    private static readonly Dictionary<int, LevelSpec> Specs = new()
    {
        // Levels 1-2 use single-digit amounts so their arithmetic facts (~170 one-step sums/differences) are learnable by a
        // small model trained from scratch in minutes; multi-digit arithmetic starts at level 3. (Until 2026-12-04 18:55
        // UTC levels 1-2 used 1-2 and 2 digit amounts: the default preset then reached only 2.8%, now 40%; the studies in
        // docs/results-*.md were run on those earlier levels.)
        [1] = new(1, 0, 0, false, 2, 9, 1, 9, 0, 0),
        [2] = new(2, 0, 0, false, 2, 9, 1, 9, 0, 0),
        [3] = new(3, 1, 1, false, 10, 99, 10, 99, 9, 12),
        [4] = new(4, 1, 2, true, 10, 999, 10, 999, 9, 25),
        [5] = new(5, 2, 3, true, 100, 999, 10, 999, 9, 30),
    };

    /// <summary>Largest intermediate value; keeps numbers at most 4 digits.</summary>
    private const int MaxValue = 9999;

    private static MathProblem? TryMake(int level, ref SplitMix64 rng)
    {
        var spec = Specs[level];

        // 1. Clause types adding up to exactly spec.Equations equations.
        var ops = new List<Op>();
        int remaining = spec.Equations, multiplicative = 0;
        while (remaining > 0)
        {
            Op op;
            if (spec.MaxMultiplicative == 0 || multiplicative >= spec.MaxMultiplicative) op = rng.Coin() ? Op.Add : Op.Sub;
            else
            {
                int r = rng.Range(0, 9);
                op = r switch
                {
                    < 3 => rng.Coin() ? Op.Add : Op.Sub,
                    < 6 => rng.Coin() ? Op.PackAdd : Op.PackSub,
                    < 8 => Op.Scale,
                    _ => spec.AllowHalf ? Op.Half : Op.Scale,
                };
            }
            int cost = op is Op.PackAdd or Op.PackSub ? 2 : 1;
            if (cost > remaining) continue;
            if (op is not (Op.Add or Op.Sub)) multiplicative++;
            ops.Add(op);
            remaining -= cost;
        }
        if (multiplicative < spec.MinMultiplicative) return null;

        // 2. Numbers, words and equations, clause by clause.
        int who = rng.Range(0, Names.Length - 1);
        string name = Names[who], pronoun = NameIsShe[who] ? "she" : "he";
        string obj = Objects[rng.Range(0, Objects.Length - 1)];
        string friend = Names[rng.Range(0, Names.Length - 1)];
        if (friend == name) return null;

        int value = rng.Range(spec.StartLo, spec.StartHi);
        var start = string.Format(Starts[rng.Range(0, Starts.Length - 1)], name, value, obj);
        var clauses = new List<string>();
        var steps = new List<string>();
        foreach (var op in ops)
        {
            switch (op)
            {
                case Op.Add:
                {
                    int x = rng.Range(spec.OperandLo, spec.OperandHi);
                    steps.Add($"{value}+{x}={value + x}");
                    value += x;
                    clauses.Add(string.Format(AddVerbs[rng.Range(0, AddVerbs.Length - 1)], x));
                    break;
                }
                case Op.Sub:
                {
                    if (value < spec.OperandLo) return null;
                    int x = rng.Range(spec.OperandLo, Math.Min(spec.OperandHi, value));
                    steps.Add($"{value}-{x}={value - x}");
                    value -= x;
                    clauses.Add(string.Format(SubVerbs[rng.Range(0, SubVerbs.Length - 1)], x, friend));
                    break;
                }
                case Op.PackAdd or Op.PackSub:
                {
                    int count = rng.Range(2, spec.PackCountHi), size = rng.Range(2, spec.PackSizeHi), total = count * size;
                    string pack = Packs[rng.Range(0, Packs.Length - 1)];
                    steps.Add($"{count}*{size}={total}");
                    if (op == Op.PackAdd)
                    {
                        steps.Add($"{value}+{total}={value + total}");
                        value += total;
                        clauses.Add(string.Format(PackAddVerbs[rng.Range(0, PackAddVerbs.Length - 1)], count, size, pack));
                    }
                    else
                    {
                        if (total > value) return null;
                        steps.Add($"{value}-{total}={value - total}");
                        value -= total;
                        clauses.Add(string.Format(PackSubVerbs[rng.Range(0, PackSubVerbs.Length - 1)], count, size, pack));
                    }
                    break;
                }
                case Op.Scale:
                {
                    int factor = rng.Range(2, 3);
                    steps.Add($"{value}*{factor}={value * factor}");
                    value *= factor;
                    clauses.Add(factor == 2 ? "doubles them" : "triples them");
                    break;
                }
                case Op.Half:
                {
                    if (value % 2 != 0 || value == 0) return null;
                    steps.Add($"{value}/2={value / 2}");
                    value /= 2;
                    clauses.Add(HalfVerbs[rng.Range(0, HalfVerbs.Length - 1)]);
                    break;
                }
            }
            if (value > MaxValue) return null;
        }

        var question = new StringBuilder(start).Append(' ')
            .Append(char.ToUpperInvariant(pronoun[0])).Append(pronoun[1..]).Append(' ')
            .Append(JoinClauses(clauses, rng.Coin())).Append(". ")
            .Append(string.Format(Questions[rng.Range(0, Questions.Length - 1)], obj, pronoun, name))
            .ToString();
        var solution = string.Join("; ", steps);
        var answer = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (question.Length + 4 + solution.Length + AnswerMarker.Length + 2 + answer.Length > MaxChars) return null;
        return new MathProblem($"mm-{Fnv1a64(question):x16}", question, solution, answer, level);
    }

    private static string JoinClauses(List<string> c, bool useAnd) => c.Count switch
    {
        1 => c[0],
        2 => useAnd ? $"{c[0]} and {c[1]}" : $"{c[0]}, then {c[1]}",
        _ => string.Join(", ", c.Take(c.Count - 1)) + (useAnd ? " and " : ", then ") + c[^1],
    };

    private static int SplitIndex(string split) => split switch
    {
        "train" => 0,
        "validation" => 1,
        "test" => 2,
        _ => throw new ArgumentException($"unknown split '{split}'; expected train, validation or test", nameof(split)),
    };

    private static int SplitOf(string question)
    {
        ulong bucket = Fnv1a64(question) % 100;
        return bucket < 80 ? 0 : bucket < 90 ? 1 : 2;
    }

    /// <summary>FNV-1a 64 of the UTF-8 bytes: tiny, stable, documented.</summary>
    public static ulong Fnv1a64(string text)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) { h ^= b; h *= 1099511628211UL; }
        return h;
    }
}
