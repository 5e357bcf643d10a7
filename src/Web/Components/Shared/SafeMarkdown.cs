// Notes are markdown written by users (and sometimes pasted model output): rendered with Markdig with raw HTML
// disabled (any <script>, <img onerror=…> or other tag shows as text), and every link or image limited to http,
// https or a relative address; anything else (javascript:, data:, vbscript:, mailto:, …) loses its link and keeps
// its text. The result is the only HTML string the UI renders unescaped.
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace BonStudio.Web.Components.Shared;

public static class SafeMarkdown
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseAutoLinks() // bare http(s):// and www. addresses become links (checked below like any other)
        .DisableHtml()
        .Build();

    /// <summary>HTML for <paramref name="markdown"/>; safe to render as markup.</summary>
    public static string ToHtml(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown)) return "";
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var link in document.Descendants<LinkInline>().ToList())
        {
            var url = link.GetDynamicUrl?.Invoke() ?? link.Url;
            if (IsAllowedUrl(url)) continue;
            // Keep what the link showed (its label, or an image's alt text), drop the address.
            while (link.FirstChild is { } child)
            {
                child.Remove();
                link.InsertBefore(child);
            }
            link.Remove();
        }
        foreach (var autolink in document.Descendants<AutolinkInline>().ToList())
        {
            if (!autolink.IsEmail && IsAllowedUrl(autolink.Url)) continue;
            autolink.ReplaceBy(new LiteralInline(autolink.Url));
        }
        return document.ToHtml(Pipeline);
    }

    /// <summary>True for http:, https: and relative addresses (path, query, fragment, //host). A colon before the
    /// first '/', '?' or '#' means a scheme; whitespace and control characters (which browsers drop) are ignored first.</summary>
    public static bool IsAllowedUrl(string? url)
    {
        if (string.IsNullOrEmpty(url)) return true;
        var cleaned = new string(url.Where(c => !char.IsControl(c) && !char.IsWhiteSpace(c)).ToArray());
        var colon = cleaned.IndexOf(':');
        var delimiter = cleaned.IndexOfAny(['/', '?', '#', '\\']);
        if (colon < 0 || (delimiter >= 0 && delimiter < colon)) return true;
        var scheme = cleaned[..colon].ToLowerInvariant();
        return scheme is "http" or "https";
    }
}
