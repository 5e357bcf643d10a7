// Code of the curves page: builds Plotly traces from EvaluationService curves (one line per evaluation × metric ×
// verifier, a filled band between the interval bounds), k on a log2 axis; and the metric at a chosen k against T.
using System.Globalization;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Components;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ScatterLib;

namespace BonStudio.Web.Components.Pages;

public partial class Curves : ComponentBase
{
    /// <summary>Evaluations to show, comma-separated run ids (query "runs").</summary>
    [SupplyParameterFromQuery(Name = "runs")] public string? QueryRuns { get; set; }

    private IReadOnlyList<EvaluationSummary> _evaluations = [];
    private IReadOnlyCollection<int> _selected = [];
    private bool _showPass = true, _showBon = true, _showMaj = true, _bands = true, _interactive;
    private int _kForTemperature = 1;
    private string? _error;
    private int _version;
    private readonly Dictionary<(int Run, double T), EvaluationCurves> _curves = new();
    private IList<ITrace> _kData = new List<ITrace>();
    private IList<ITrace> _tData = new List<ITrace>();
    private readonly Config _config = new() { Responsive = true, DisplayLogo = false };
    private Plotly.Blazor.Layout _kLayout = new();
    private Plotly.Blazor.Layout _tLayout = new();

    protected override async Task OnInitializedAsync()
    {
        _evaluations = await Evaluations.ListAsync();
        var wanted = (QueryRuns ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : 0)
            .Where(id => _evaluations.Any(e => e.RunId == id)).ToList();
        if (wanted.Count == 0 && _evaluations.Count > 0) wanted = [_evaluations[0].RunId];
        await SelectAsync(wanted);
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender) { _interactive = true; StateHasChanged(); }
    }

    private async Task SelectAsync(IEnumerable<int> ids)
    {
        _selected = ids.ToList();
        _error = null;
        foreach (var id in _selected)
        {
            var summary = _evaluations.First(e => e.RunId == id);
            foreach (var t in summary.Temperatures)
            {
                if (_curves.ContainsKey((id, t))) continue;
                try { _curves[(id, t)] = await Evaluations.CurvesAsync(id, t); }
                catch (Exception e) when (e is EvaluationNotFoundException or ArgumentException) { _error = e.Message; }
            }
        }
        Rebuild();
    }

    private void Toggle(ref bool flag, bool value) { flag = value; Rebuild(); }

    private Task SetKAsync(int k) { _kForTemperature = Math.Max(1, k); Rebuild(); return Task.CompletedTask; }

    private string Label(int runId) => $"#{runId} {_evaluations.FirstOrDefault(e => e.RunId == runId)?.Name}";

    private void Rebuild()
    {
        var kData = new List<ITrace>();
        int maxN = 1;
        foreach (var id in _selected)
        {
            var summary = _evaluations.First(e => e.RunId == id);
            foreach (var t in summary.Temperatures)
            {
                if (!_curves.TryGetValue((id, t), out var c)) continue;
                maxN = Math.Max(maxN, c.N);
                string name = summary.Temperatures.Count > 1 ? $"{Label(id)} T={t.ToString(CultureInfo.InvariantCulture)}" : Label(id);
                if (_showPass) AddCurve(kData, c.K, c.PassAtK, $"pass@k · {name}", null);
                if (_showMaj) AddCurve(kData, c.K, c.MajAtK, $"maj@k · {name}", "dot");
                if (_showBon) foreach (var v in c.BonAtK) AddCurve(kData, c.K, v.BonAtK, $"BoN@k ({v.Verifier}) · {name}", "dash");
            }
        }
        var ticks = new List<object>();
        for (int k = 1; k <= maxN; k *= 2) ticks.Add(k);
        _kLayout = new Plotly.Blazor.Layout
        {
            Height = 520, HoverMode = HoverModeEnum.X,
            XAxis = [new XAxis { Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Log, Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "k (log scale)" }, TickVals = ticks, TickText = ticks.Select(x => x.ToString()!).Cast<object>().ToList() }],
            YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = "mean over prompts" }, Range = [0.0, 1.0] }],
        };
        _kData = kData;

        // Temperature view: each metric at k (capped at each evaluation's n) against T.
        var tData = new List<ITrace>();
        foreach (var id in _selected)
        {
            var points = _curves.Where(kv => kv.Key.Run == id).OrderBy(kv => kv.Key.T).ToList();
            if (points.Count == 0) continue;
            var xs = points.Select(p => (object)p.Key.T).ToList();
            object At(Curve c, int n) => c.Mean[Math.Min(_kForTemperature, n) - 1];
            if (_showPass) tData.Add(Line(xs, points.Select(p => At(p.Value.PassAtK, p.Value.N)).ToList(), $"pass@{_kForTemperature} · {Label(id)}", null));
            if (_showMaj) tData.Add(Line(xs, points.Select(p => At(p.Value.MajAtK, p.Value.N)).ToList(), $"maj@{_kForTemperature} · {Label(id)}", "dot"));
            if (_showBon)
                foreach (var verifier in points.SelectMany(p => p.Value.BonAtK.Select(v => v.Verifier)).Distinct())
                {
                    var withV = points.Where(p => p.Value.BonAtK.Any(v => v.Verifier == verifier)).ToList();
                    tData.Add(Line(withV.Select(p => (object)p.Key.T).ToList(),
                        withV.Select(p => At(p.Value.BonAtK.First(v => v.Verifier == verifier).BonAtK, p.Value.N)).ToList(), $"BoN@{_kForTemperature} ({verifier}) · {Label(id)}", "dash"));
                }
        }
        _tLayout = new Plotly.Blazor.Layout
        {
            Height = 480, HoverMode = HoverModeEnum.X,
            XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "temperature" } }],
            YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = $"mean over prompts at k = {_kForTemperature}" }, Range = [0.0, 1.0] }],
        };
        _tData = tData;
        _version++; // new chart instances: simplest way to redraw with a new set of traces
    }

    private void AddCurve(List<ITrace> traces, int[] k, Curve c, string name, string? dash)
    {
        var xs = k.Select(x => (object)x).ToList();
        if (_bands && c.Lower.All(x => x is not null))
        {
            // The band: the lower bound, then the upper bound filled down to it.
            traces.Add(new Scatter { X = xs, Y = c.Lower.Select(x => (object)x!.Value).ToList(), Mode = ModeFlag.Lines, Line = new Line { Width = 0 }, ShowLegend = false, HoverInfo = HoverInfoFlag.Skip, Name = name + " (lower)" });
            traces.Add(new Scatter { X = xs, Y = c.Upper.Select(x => (object)x!.Value).ToList(), Mode = ModeFlag.Lines, Line = new Line { Width = 0 }, Fill = FillEnum.ToNextY, FillColor = "rgba(120,120,120,0.15)", ShowLegend = false, HoverInfo = HoverInfoFlag.Skip, Name = name + " (upper)" });
        }
        traces.Add(Line(xs, c.Mean.Select(x => (object)x).ToList(), name, dash));
    }

    private static Scatter Line(IList<object> xs, IList<object> ys, string name, string? dash) => new()
    {
        X = xs, Y = ys, Name = name, Mode = ModeFlag.Lines | ModeFlag.Markers,
        Line = dash is null ? new Line() : new Line { Dash = dash },
        HoverTemplate = "%{y:.4f} at %{x}<extra>" + System.Net.WebUtility.HtmlEncode(name) + "</extra>",
    };
}
