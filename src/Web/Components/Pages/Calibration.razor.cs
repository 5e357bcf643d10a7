// Code of the calibration comparison page: loads the (run, source) curves, recomputes every report from the raw pairs
// whenever the selection, binning, bin count or bands change (CalibrationStore, the same code as the API), and builds
// one Plotly figure: reliability diagrams (top, with the diagonal) and per-bin counts (bottom, second y axis).
using System.Globalization;
using System.Text;
using System.Text.Json;
using BonStudio.Data;
using BonStudio.Training.Metrics;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.JSInterop;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ScatterLib;

namespace BonStudio.Web.Components.Pages;

public partial class Calibration : ComponentBase
{
    [Inject] private IDbContextFactory<BonStudioDb> DbFactory { get; set; } = null!;
    [Inject] private IJSRuntime Js { get; set; } = null!;

    /// <summary>Runs whose curves (all sources) start selected, comma-separated ids (query "runs").</summary>
    [SupplyParameterFromQuery(Name = "runs")] public string? QueryRuns { get; set; }

    private IReadOnlyList<CalibrationCurveInfo> _available = [];
    private readonly List<string> _selected = [];
    private List<CalibrationCurveReport> _reports = [];
    private Binning _binning = Binning.Width;
    private int _bins = 15;
    private bool _bands, _interactive;
    private long _bandSeed;
    private string? _error;
    private int _version;
    private IList<ITrace> _data = new List<ITrace>();
    private Plotly.Blazor.Layout _layout = new();
    private readonly Config _config = new() { Responsive = true, DisplayLogo = false };

    private CalibrationStore Store => new(DbFactory);
    private string ChartId => $"calibration-figure-{_version}";
    private string Estimator => CalibrationMetrics.DescribeBinning(_bins, _binning);
    private static string Key(int runId, string source) => $"{runId}:{source}";
    private static string F(double x) => x.ToString("F4", CultureInfo.InvariantCulture);
    private static string R(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    protected override async Task OnInitializedAsync()
    {
        _available = await Store.CurvesAsync();
        var wanted = (QueryRuns ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : 0).ToHashSet();
        foreach (var c in _available.Where(c => wanted.Contains(c.RunId))) _selected.Add(Key(c.RunId, c.Source));
        await RecomputeAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender) { _interactive = true; StateHasChanged(); }
    }

    private async Task ToggleCurveAsync(string key, bool on)
    {
        _selected.Remove(key);
        if (on) _selected.Add(key);
        await RecomputeAsync();
    }

    private Task SetBinningAsync(Binning b) { _binning = b; return RecomputeAsync(); }
    private Task SetBinsAsync(int bins) { _bins = Math.Clamp(bins, 1, 200); return RecomputeAsync(); }
    private Task SetBandsAsync(bool on) { _bands = on; return RecomputeAsync(); }
    private Task SetSeedAsync(long seed) { _bandSeed = seed; return RecomputeAsync(); }

    private async Task RecomputeAsync()
    {
        _error = null;
        var reports = new List<CalibrationCurveReport>();
        foreach (var key in _selected)
        {
            var info = _available.FirstOrDefault(c => Key(c.RunId, c.Source) == key);
            if (info is null) continue;
            try { reports.Add(await Store.CurveAsync(info.RunId, info.RunName, info.Source, _bins, _binning, _bands, _bandSeed)); }
            catch (Exception e) when (e is CalibrationNotFoundException or ArgumentException) { _error = e.Message; }
        }
        _reports = reports;
        Rebuild();
    }

    private void Rebuild()
    {
        var data = new List<ITrace>
        {
            new Scatter { X = [0.0, 1.0], Y = [0.0, 1.0], Name = "perfect calibration", Mode = ModeFlag.Lines,
                          Line = new Line { Dash = "dash", Color = "#888888" }, HoverInfo = HoverInfoFlag.Skip },
        };
        for (int i = 0; i < _reports.Count; i++)
        {
            var r = _reports[i];
            string color = Palette[i % Palette.Length], name = $"#{r.RunId} {r.RunName} · {r.Source}";
            var filled = r.Report.Bins.Select((b, j) => (b, j)).Where(x => x.b.Count > 0).ToList();
            if (r.Bands is { } bands)
            {
                var withBand = filled.Where(x => bands[x.j].Lower is not null).ToList();
                data.Add(new Scatter { X = withBand.Select(x => (object)x.b.Confidence!.Value).ToList(), Y = withBand.Select(x => (object)bands[x.j].Lower!.Value).ToList(),
                    Mode = ModeFlag.Lines, Line = new Line { Width = 0, Color = color }, ShowLegend = false, HoverInfo = HoverInfoFlag.Skip, Name = name + " (band low)" });
                data.Add(new Scatter { X = withBand.Select(x => (object)x.b.Confidence!.Value).ToList(), Y = withBand.Select(x => (object)bands[x.j].Upper!.Value).ToList(),
                    Mode = ModeFlag.Lines, Line = new Line { Width = 0, Color = color }, Fill = FillEnum.ToNextY, FillColor = Fade(color), ShowLegend = false,
                    HoverInfo = HoverInfoFlag.Skip, Name = name + " (band high)" });
            }
            data.Add(new Scatter
            {
                X = filled.Select(x => (object)x.b.Confidence!.Value).ToList(), Y = filled.Select(x => (object)x.b.Accuracy!.Value).ToList(),
                Name = $"{name} (ECE {F(r.Report.Ece)})", Mode = ModeFlag.Lines | ModeFlag.Markers, Line = new Line { Color = color },
                HoverTemplate = "confidence %{x:.3f}, accuracy %{y:.3f}<extra>" + System.Net.WebUtility.HtmlEncode(name) + "</extra>",
            });
            data.Add(new Bar
            {
                X = r.Report.Bins.Select(b => (object)((b.Lo + b.Hi) / 2)).ToList(), Y = r.Report.Bins.Select(b => (object)b.Count).ToList(),
                Name = name + " (count)", ShowLegend = false, YAxis = "y2", Opacity = 0.6m, Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = color },
                HoverTemplate = "[%{x}] count %{y}<extra>" + System.Net.WebUtility.HtmlEncode(name) + "</extra>",
            });
        }
        _layout = new Plotly.Blazor.Layout
        {
            Height = 640, BarMode = BarModeEnum.Group,
            Title = new Title { Text = $"Reliability ({Estimator})" },
            XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "confidence (bin mean)" }, Range = [0.0, 1.0] }],
            YAxis =
            [
                new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = "accuracy (bin mean)" }, Range = [0.0, 1.0], Domain = [0.38, 1.0] },
                new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = "pairs per bin" }, Domain = [0.0, 0.22] },
            ],
        };
        _data = data;
        _version++; // a new chart instance: the simplest way to redraw with a new set of traces
    }

    private static string Fade(string hex) =>
        $"rgba({Convert.ToInt32(hex[1..3], 16)},{Convert.ToInt32(hex[3..5], 16)},{Convert.ToInt32(hex[5..7], 16)},0.18)";

    private async Task ExportFigureAsync(string format)
    {
        // The id is ours (a counter), the format one of two constants: nothing user-typed reaches the script.
        var id = JsonSerializer.Serialize(ChartId);
        await Js.InvokeVoidAsync("eval", $"Plotly.downloadImage(document.getElementById({id}), {{format: '{(format == "svg" ? "svg" : "png")}', filename: 'calibration', width: 1000, height: 700}})");
    }

    /// <summary>The table as CSV (the estimator in the header), e.g. for a paper.</summary>
    public static string Csv(IReadOnlyList<CalibrationCurveReport> reports, string estimator)
    {
        var sb = new StringBuilder();
        sb.Append("run_id,run_name,source,n,accuracy,").Append(Quote($"ECE ({estimator})")).Append(',').Append(Quote($"MCE ({estimator})")).Append(",brier,auroc\n");
        foreach (var r in reports)
            sb.Append(r.RunId).Append(',').Append(Quote(r.RunName)).Append(',').Append(Quote(r.Source)).Append(',').Append(r.Report.N).Append(',')
              .Append(R(r.Report.Accuracy)).Append(',').Append(R(r.Report.Ece)).Append(',').Append(R(r.Report.Mce)).Append(',')
              .Append(R(r.Report.Brier)).Append(',').Append(r.Report.Auroc is double a ? R(a) : "").Append('\n');
        return sb.ToString();
    }

    // A leading = + - @ would be a formula in a spreadsheet: prefix it with a quote (names are user input).
    private static string Quote(string s)
    {
        if (s.Length > 0 && "=+-@".Contains(s[0])) s = "'" + s;
        return "\"" + s.Replace("\"", "\"\"") + "\"";
    }

    private async Task ExportCsvAsync()
    {
        var csv = JsonSerializer.Serialize(Csv(_reports, Estimator)); // a JS string literal: user text cannot escape it
        await Js.InvokeVoidAsync("eval",
            $"(function(){{const b=new Blob([{csv}],{{type:'text/csv'}});const a=document.createElement('a');a.href=URL.createObjectURL(b);a.download='calibration.csv';document.body.appendChild(a);a.click();a.remove();}})()");
    }
}
