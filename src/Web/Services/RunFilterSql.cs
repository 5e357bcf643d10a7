// Turns a parsed filter (RunFilterExpression) into one parameterised SQL predicate over the Runs row aliased "r":
// metrics become `Id IN (…)` over RunSummaries (index (Name, Value)), config fields json_extract on the stored canonical JSON
// (SQLite; jsonb on PostgreSQL). Values are always parameters ({0}, {1}, … for FromSqlRaw); names are validated
// identifiers or parameters, never spliced user text.
using System.Text;
using BonStudio.Data.Entities;

namespace BonStudio.Web.Services;

public static class RunFilterSql
{
    /// <summary>Builds the WHERE fragment; <paramref name="parameters"/> receives the values in placeholder order.</summary>
    public static string ToSql(FilterNode node, List<object> parameters, bool postgres = false)
    {
        var sb = new StringBuilder();
        Write(node, sb, parameters, postgres);
        return sb.ToString();
    }

    private static string P(List<object> ps, object value)
    {
        ps.Add(value);
        return "{" + (ps.Count - 1) + "}";
    }

    private static string OpSql(FilterOp op) => op switch
    {
        FilterOp.Less => "<", FilterOp.LessOrEqual => "<=", FilterOp.Greater => ">", FilterOp.GreaterOrEqual => ">=",
        FilterOp.Equal => "=", _ => "<>",
    };

    private static void Write(FilterNode node, StringBuilder sb, List<object> ps, bool pg)
    {
        switch (node)
        {
            case AndNode a: sb.Append('('); Write(a.Left, sb, ps, pg); sb.Append(" AND "); Write(a.Right, sb, ps, pg); sb.Append(')'); break;
            case OrNode o: sb.Append('('); Write(o.Left, sb, ps, pg); sb.Append(" OR "); Write(o.Right, sb, ps, pg); sb.Append(')'); break;
            // COALESCE: a comparison on a missing config field is NULL in SQL; "not" of it must be true, not NULL.
            case NotNode n: sb.Append("(NOT COALESCE("); Write(n.Inner, sb, ps, pg); sb.Append(", FALSE))"); break;
            case CompareNode c: WriteCompare(c, sb, ps, pg); break;
            default: throw new InvalidOperationException($"Unknown filter node {node.GetType().Name}");
        }
    }

    private static void WriteCompare(CompareNode c, StringBuilder sb, List<object> ps, bool pg)
    {
        var op = OpSql(c.Op);
        switch (c.Field.Source)
        {
            case FieldSource.Metric:
                // IN over the (Name, Value) index rather than a correlated EXISTS: the database reads only the runs whose
                // metric is in range (SEARCH … USING INDEX IX_RunSummaries_Name_Value) instead of probing every run.
                sb.Append($"r.\"Id\" IN (SELECT s.\"RunId\" FROM \"RunSummaries\" AS s WHERE s.\"Name\" = {P(ps, c.Field.Name)} AND s.\"Value\" {op} {P(ps, c.Value)})");
                break;
            case FieldSource.Config:
                if (pg)
                {
                    // The jsonb path is a text[] parameter: a literal '{a,b}' would be read by FromSqlRaw as a format placeholder.
                    var path = $"CAST({P(ps, "{" + string.Join(",", c.Field.Name.Split('.')) + "}")} AS text[])";
                    var expr = c.Value switch
                    {
                        double => $"(CASE WHEN jsonb_typeof(r.\"ConfigJson\"::jsonb #> {path}) = 'number' THEN (r.\"ConfigJson\"::jsonb #>> {path})::double precision END)",
                        bool => $"(CASE WHEN jsonb_typeof(r.\"ConfigJson\"::jsonb #> {path}) = 'boolean' THEN (r.\"ConfigJson\"::jsonb #>> {path})::boolean END)",
                        _ => $"(r.\"ConfigJson\"::jsonb #>> {path})",
                    };
                    sb.Append($"{expr} {op} {P(ps, c.Value)}");
                }
                else
                {
                    var expr = $"json_extract(r.\"ConfigJson\", {P(ps, "$." + c.Field.Name)})";
                    // json_extract gives numbers as REAL/INTEGER, text as TEXT and true/false as 1/0; a typed
                    // comparison keeps "lr < 1" from matching text values (SQLite orders numbers before text).
                    var typeCheck = c.Value switch
                    {
                        double => $"json_type(r.\"ConfigJson\", {P(ps, "$." + c.Field.Name)}) IN ('integer', 'real')",
                        bool => $"json_type(r.\"ConfigJson\", {P(ps, "$." + c.Field.Name)}) IN ('true', 'false')",
                        _ => $"json_type(r.\"ConfigJson\", {P(ps, "$." + c.Field.Name)}) = 'text'",
                    };
                    sb.Append($"({typeCheck} AND {expr} {op} {P(ps, c.Value is bool b ? (b ? 1 : 0) : c.Value)})");
                }
                break;
            case FieldSource.Column:
                WriteColumn(c, op, sb, ps);
                break;
        }
    }

    private static void WriteColumn(CompareNode c, string op, StringBuilder sb, List<object> ps)
    {
        switch (c.Field.Name)
        {
            case "kind": sb.Append($"r.\"Kind\" {op} {P(ps, (string)c.Value)}"); break;
            case "name": sb.Append($"r.\"Name\" {op} {P(ps, (string)c.Value)}"); break;
            case "status":
                if (!Enum.TryParse<RunStatus>((string)c.Value, ignoreCase: true, out var status) || !Enum.IsDefined(status) || char.IsDigit(((string)c.Value)[0]))
                    throw new RunFilterException($"Unknown status '{c.Value}'; one of {string.Join(", ", Enum.GetNames<RunStatus>()).ToLowerInvariant()}", c.Position);
                sb.Append($"r.\"Status\" {op} {P(ps, status.ToString())}");
                break;
            case "tag":
                var like = "%," + ((string)c.Value).Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + ",%";
                sb.Append(c.Op == FilterOp.Equal ? "" : "NOT ").Append($"(r.\"Tags\" LIKE {P(ps, like)} ESCAPE '\\')");
                break;
            case "seed": sb.Append($"r.\"Seed\" {op} {P(ps, (long)Math.Round((double)c.Value))}"); break;
            case "id": sb.Append($"r.\"Id\" {op} {P(ps, (long)Math.Round((double)c.Value))}"); break;
            case "parent": sb.Append($"r.\"ParentRunId\" {op} {P(ps, (long)Math.Round((double)c.Value))}"); break;
            case "experiment": sb.Append($"r.\"ExperimentId\" {op} {P(ps, (long)Math.Round((double)c.Value))}"); break;
            case "starred": sb.Append($"r.\"Starred\" {op} {P(ps, (bool)c.Value)}"); break;
            case "archived": sb.Append($"r.\"Archived\" {op} {P(ps, (bool)c.Value)}"); break;
            default: throw new RunFilterException($"Unknown field '{c.Field.Name}'", c.Position);
        }
    }

    /// <summary>True when the expression mentions the archived flag (then the list does not hide archived runs itself).</summary>
    public static bool MentionsArchived(FilterNode node) => node switch
    {
        AndNode a => MentionsArchived(a.Left) || MentionsArchived(a.Right),
        OrNode o => MentionsArchived(o.Left) || MentionsArchived(o.Right),
        NotNode n => MentionsArchived(n.Inner),
        CompareNode c => c.Field is { Source: FieldSource.Column, Name: "archived" },
        _ => false,
    };
}
