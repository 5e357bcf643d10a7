// The runs-table filter language: `lr < 1e-3 and bon/bon_at_32 > 0.4`, `config.learningRate <= 0.002 or not starred`.
// A small recursive-descent parser (no evaluation of user code) producing an AST that RunFilterSql turns into one
// parameterised SQL predicate over Runs (config JSON) and RunSummaries (latest metric values).
//
// Grammar (precedence: not > and > or; keywords are case-insensitive):
//   expr   := and ("or" and)*
//   and    := unary ("and" unary)*
//   unary  := "not" unary | "(" expr ")" | compare
//   compare:= field op value          op := < <= > >= = == != <>
//   field  := config.<path> | metric.<name> | <name containing '/'> (a metric) | kind|status|name|tag|seed|starred|archived|experiment
//             | <bare name> (a config field, e.g. lr, learningRate)
//   value  := number | "string" | 'string' | true | false | bare word
using System.Globalization;
using System.Text;

namespace BonStudio.Web.Services;

/// <summary>A filter expression that does not parse; <see cref="Position"/> is the 0-based character offset.</summary>
public sealed class RunFilterException(string message, int position)
    : Exception($"{message} (at position {position + 1})")
{
    public int Position { get; } = position;
    public string Reason { get; } = message;
}

public enum FilterOp { Less, LessOrEqual, Greater, GreaterOrEqual, Equal, NotEqual }

public enum FieldSource { Config, Metric, Column }

/// <summary>What a comparison looks at: a config path ("a.b"), a metric name ("eval/accuracy") or a run column ("status").</summary>
public sealed record FilterField(FieldSource Source, string Name);

public abstract record FilterNode;
public sealed record AndNode(FilterNode Left, FilterNode Right) : FilterNode;
public sealed record OrNode(FilterNode Left, FilterNode Right) : FilterNode;
public sealed record NotNode(FilterNode Inner) : FilterNode;
/// <summary>Value is a double, a string or a bool.</summary>
public sealed record CompareNode(FilterField Field, FilterOp Op, object Value, int Position) : FilterNode;

public static class RunFilterExpression
{
    public const int MaxLength = 2000;
    private const int MaxDepth = 50;

    /// <summary>Run columns a filter may name directly.</summary>
    public static readonly IReadOnlySet<string> Columns =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "kind", "status", "name", "tag", "seed", "starred", "archived", "experiment", "id", "parent" };

    /// <summary>Short names users type for common config fields (W&amp;B/MLflow habit).</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["lr"] = "learningRate", ["bs"] = "batchSize" };

    public static FilterNode Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength) throw new RunFilterException($"The filter is longer than {MaxLength} characters", MaxLength);
        var p = new Parser(Tokenize(text));
        var node = p.Expr(0);
        if (!p.AtEnd) throw new RunFilterException($"Unexpected '{p.Peek.Text}'; expected 'and', 'or' or the end", p.Peek.Position);
        return node;
    }

    /// <summary>Parses, or returns the error; null/blank input is "no filter".</summary>
    public static bool TryParse(string? text, out FilterNode? node, out RunFilterException? error)
    {
        node = null; error = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        try { node = Parse(text); return true; }
        catch (RunFilterException e) { error = e; return false; }
    }

    private enum Tok { Word, Number, String, Op, LParen, RParen, End }
    private readonly record struct Token(Tok Kind, string Text, int Position, double Number = 0);

    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int start = i;
            if (c == '(') { tokens.Add(new(Tok.LParen, "(", i++)); continue; }
            if (c == ')') { tokens.Add(new(Tok.RParen, ")", i++)); continue; }
            if (c is '<' or '>' or '=' or '!')
            {
                string two = i + 1 < s.Length ? s.Substring(i, 2) : "";
                if (two is "<=" or ">=" or "==" or "!=" or "<>") { tokens.Add(new(Tok.Op, two, i)); i += 2; continue; }
                if (c == '!') throw new RunFilterException("'!' must be followed by '='; use 'not' for negation", i);
                tokens.Add(new(Tok.Op, c.ToString(), i++)); continue;
            }
            if (c is '"' or '\'')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= s.Length) throw new RunFilterException("Unterminated string", start);
                    if (s[i] == '\\' && i + 1 < s.Length) { sb.Append(s[i + 1]); i += 2; continue; }
                    if (s[i] == c) { i++; break; }
                    sb.Append(s[i++]);
                }
                tokens.Add(new(Tok.String, sb.ToString(), start)); continue;
            }
            if (char.IsDigit(c) || ((c is '-' or '+' or '.') && i + 1 < s.Length && (char.IsDigit(s[i + 1]) || s[i + 1] == '.')))
            {
                i++;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '.' || ((s[i] is '-' or '+') && s[i - 1] is 'e' or 'E'))) i++;
                var text = s[start..i];
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
                    throw new RunFilterException($"'{text}' is not a number", start);
                tokens.Add(new(Tok.Number, text, start, number)); continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] is '_' or '/' or '.' or '-' or '@')) i++;
                tokens.Add(new(Tok.Word, s[start..i], start)); continue;
            }
            throw new RunFilterException($"Unexpected character '{c}'", i);
        }
        tokens.Add(new(Tok.End, "end of the filter", s.Length));
        return tokens;
    }

    private sealed class Parser(List<Token> tokens)
    {
        private int _i;
        public Token Peek => tokens[_i];
        public bool AtEnd => Peek.Kind == Tok.End;
        private Token Next() => tokens[_i++];
        private bool IsKeyword(string word) => Peek.Kind == Tok.Word && Peek.Text.Equals(word, StringComparison.OrdinalIgnoreCase);

        public FilterNode Expr(int depth)
        {
            if (depth > MaxDepth) throw new RunFilterException("The filter nests too deeply", Peek.Position);
            var left = And(depth);
            while (IsKeyword("or")) { Next(); left = new OrNode(left, And(depth)); }
            return left;
        }

        private FilterNode And(int depth)
        {
            var left = Unary(depth);
            while (IsKeyword("and")) { Next(); left = new AndNode(left, Unary(depth)); }
            return left;
        }

        private FilterNode Unary(int depth)
        {
            if (depth > MaxDepth) throw new RunFilterException("The filter nests too deeply", Peek.Position);
            if (IsKeyword("not")) { Next(); return new NotNode(Unary(depth + 1)); }
            if (Peek.Kind == Tok.LParen)
            {
                Next();
                var inner = Expr(depth + 1);
                if (Peek.Kind != Tok.RParen) throw new RunFilterException($"Expected ')' but found '{Peek.Text}'", Peek.Position);
                Next();
                return inner;
            }
            return Compare();
        }

        private FilterNode Compare()
        {
            var fieldTok = Next();
            if (fieldTok.Kind != Tok.Word || fieldTok.Text.ToLowerInvariant() is "and" or "or")
                throw new RunFilterException($"Expected a field name (e.g. config.learningRate or eval/accuracy) but found '{fieldTok.Text}'", fieldTok.Position);
            var field = ResolveField(fieldTok);
            var opTok = Next();
            if (opTok.Kind != Tok.Op) throw new RunFilterException($"Expected a comparison (<, <=, >, >=, =, !=) after '{fieldTok.Text}' but found '{opTok.Text}'", opTok.Position);
            var op = opTok.Text switch
            {
                "<" => FilterOp.Less, "<=" => FilterOp.LessOrEqual, ">" => FilterOp.Greater, ">=" => FilterOp.GreaterOrEqual,
                "=" or "==" => FilterOp.Equal, _ => FilterOp.NotEqual,
            };
            var valueTok = Next();
            object value = valueTok.Kind switch
            {
                Tok.Number => valueTok.Number,
                Tok.String => valueTok.Text,
                Tok.Word when valueTok.Text.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
                Tok.Word when valueTok.Text.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
                Tok.Word when valueTok.Text.ToLowerInvariant() is not ("and" or "or" or "not") => valueTok.Text,
                _ => throw new RunFilterException($"Expected a value (number, \"text\", true or false) but found '{valueTok.Text}'", valueTok.Position),
            };
            if (field.Source == FieldSource.Metric && value is not double)
                throw new RunFilterException($"Metric '{field.Name}' can only be compared with a number", valueTok.Position);
            if (value is string && op is not (FilterOp.Equal or FilterOp.NotEqual) && field.Source == FieldSource.Column)
                throw new RunFilterException($"'{fieldTok.Text}' compares only with = or !=", opTok.Position);
            if (field.Source == FieldSource.Column)
            {
                var col = field.Name;
                if (col is "seed" or "id" or "experiment" or "parent" && value is not double)
                    throw new RunFilterException($"'{col}' compares with a number", valueTok.Position);
                if (col is "starred" or "archived" && value is not bool)
                    throw new RunFilterException($"'{col}' compares with true or false", valueTok.Position);
                if (col is "starred" or "archived" && op is not (FilterOp.Equal or FilterOp.NotEqual))
                    throw new RunFilterException($"'{col}' compares only with = or !=", opTok.Position);
                if (col is "kind" or "status" or "name" or "tag" && value is not string)
                    throw new RunFilterException($"'{col}' compares with text", valueTok.Position);
            }
            return new CompareNode(field, op, value, fieldTok.Position);
        }

        private static FilterField ResolveField(Token t)
        {
            var text = t.Text;
            if (text.StartsWith("config.", StringComparison.OrdinalIgnoreCase))
                return new FilterField(FieldSource.Config, CheckConfigPath(text[7..], t.Position + 7));
            if (text.StartsWith("metric.", StringComparison.OrdinalIgnoreCase) || text.StartsWith("metrics.", StringComparison.OrdinalIgnoreCase))
            {
                var name = text[(text.IndexOf('.') + 1)..];
                if (name.Length == 0) throw new RunFilterException("Missing metric name after 'metric.'", t.Position);
                return new FilterField(FieldSource.Metric, name);
            }
            if (text.Contains('/')) return new FilterField(FieldSource.Metric, text);
            if (Columns.Contains(text)) return new FilterField(FieldSource.Column, text.ToLowerInvariant());
            return new FilterField(FieldSource.Config, CheckConfigPath(Aliases.TryGetValue(text, out var full) ? full : text, t.Position));
        }

        /// <summary>Config paths are dotted identifiers only, so they can be embedded in a JSON path safely.</summary>
        private static string CheckConfigPath(string path, int position)
        {
            var parts = path.Split('.');
            foreach (var part in parts)
                if (part.Length == 0 || !(char.IsAsciiLetter(part[0]) || part[0] == '_') || !part.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
                    throw new RunFilterException($"'{path}' is not a config field name (letters, digits and '_', separated by '.')", position);
            return path;
        }
    }
}
