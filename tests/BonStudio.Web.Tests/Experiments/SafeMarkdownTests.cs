// Notes are rendered as markdown without ever letting raw HTML or script links through.
using BonStudio.Web.Components.Shared;

namespace BonStudio.Web.Tests.Experiments;

public class SafeMarkdownTests
{
    [Fact]
    public void MarkdownIsRenderedAndRawHtmlIsEscaped()
    {
        var html = SafeMarkdown.ToHtml("**bold** and *it*\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> inline <b>tag</b>");

        Assert.Contains("<strong>bold</strong>", html);
        Assert.Contains("<em>it</em>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("&lt;img src=x onerror=alert(2)&gt;", html);
        Assert.Contains("&lt;b&gt;tag&lt;/b&gt;", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<b>", html);
    }

    [Theory]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JavaScript:alert(1))")]
    [InlineData("[x](java&#9;script:alert(1))")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("[x](vbscript:msgbox)")]
    [InlineData("[x][ref]\n\n[ref]: javascript:alert(1)")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("<mailto:someone@example.org>")]
    [InlineData("![x](javascript:alert(1))")]
    public void LinksOtherThanHttpHttpsOrRelativeLoseTheirAddress(string markdown)
    {
        var html = SafeMarkdown.ToHtml(markdown);
        Assert.DoesNotContain("href", html);
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotContain("<a", html);
    }

    [Theory]
    [InlineData("[x](https://example.org/a?b=1)", "https://example.org/a?b=1")]
    [InlineData("[x](http://example.org)", "http://example.org")]
    [InlineData("[x](/runs/3)", "/runs/3")]
    [InlineData("[x](runs/3#top)", "runs/3#top")]
    [InlineData("see https://example.org/p", "https://example.org/p")]
    public void HttpHttpsAndRelativeLinksStay(string markdown, string href)
    {
        Assert.Contains($"href=\"{href}\"", SafeMarkdown.ToHtml(markdown));
    }

    [Fact]
    public void UnsafeLinkKeepsItsLabelAsText()
    {
        var html = SafeMarkdown.ToHtml("before [the **label**](javascript:alert(1)) after");
        Assert.Contains("before the <strong>label</strong> after", html);
    }

    [Fact]
    public void EmptyNotesRenderNothing()
    {
        Assert.Equal("", SafeMarkdown.ToHtml(null));
        Assert.Equal("", SafeMarkdown.ToHtml("  \n"));
    }
}
