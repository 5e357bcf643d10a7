// The one error every JSONL reader throws for bad input: which line, which field, what is wrong.
// A file with any malformed line is rejected as a whole, so nothing is half-imported.
namespace BonStudio.Training.Tasks;

public sealed class JsonlFormatException(int lineNumber, string message, Exception? inner = null)
    : FormatException($"line {lineNumber}: {message}", inner)
{
    /// <summary>1-based line number in the file.</summary>
    public int LineNumber { get; } = lineNumber;
}
