// Code of the N-sample inspector: loads evaluations, a server-side page of prompts and one prompt's samples through
// EvaluationService; j/k or ↓/↑ move between prompts (across pages); deep links: /inspector/{run}?t=&set=&verifier=&k=.
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace BonStudio.Web.Components.Pages;

public partial class Inspector : ComponentBase
{
    /// <summary>The evaluation (run id) shown.</summary>
    [Parameter] public int? RunId { get; set; }
    /// <summary>Temperature to open at (query "t").</summary>
    [SupplyParameterFromQuery(Name = "t")] public double? QueryTemperature { get; set; }
    /// <summary>Prompt (sample set id) to open at (query "set").</summary>
    [SupplyParameterFromQuery(Name = "set")] public long? QuerySet { get; set; }
    /// <summary>Verifier (score layer) to open at.</summary>
    [SupplyParameterFromQuery(Name = "verifier")] public string? QueryVerifier { get; set; }
    /// <summary>Best-of-k to open at (default n).</summary>
    [SupplyParameterFromQuery(Name = "k")] public int? QueryK { get; set; }

    private const int PageSize = 50;
    private ElementReference _root;
    private bool _interactive;
    private IReadOnlyList<EvaluationSummary> _evaluations = [];
    private EvaluationSummary? _summary;
    private double _temperature;
    private string? _verifier;
    private int _k = 1;
    private string? _search;
    private string _filter = "all";
    private int? _difficulty;
    private IReadOnlyList<int> _difficulties = [];
    private bool _tableView;
    private PromptPage? _page;
    private int _pageIndex;
    private PromptDetail? _detail;
    private string? _error;
    private int? _loadedRun;

    private int PageCount => _page is null ? 0 : (_page.Total + PageSize - 1) / PageSize;

    protected override async Task OnParametersSetAsync()
    {
        if (_evaluations.Count == 0) _evaluations = await Evaluations.ListAsync();
        if (RunId == _loadedRun) return;
        _loadedRun = RunId;
        _summary = null; _page = null; _detail = null; _error = null;
        if (RunId is not int runId) return;
        _summary = await Evaluations.GetAsync(runId);
        if (_summary is null || _summary.Temperatures.Count == 0) { _error = $"Evaluation {runId} does not exist or has no samples yet."; return; }
        _temperature = QueryTemperature is double t && _summary.Temperatures.Contains(t) ? t : _summary.Temperatures[0];
        _verifier = _summary.Verifiers.Any(v => v.Verifier == QueryVerifier) ? QueryVerifier : _summary.Verifiers.FirstOrDefault()?.Verifier;
        _k = Math.Clamp(QueryK ?? _summary.N, 1, Math.Max(1, _summary.N));
        _pageIndex = 0;
        await LoadPageAsync(selectSet: QuerySet);
    }

    private PromptQuery Query => new()
    {
        Temperature = _temperature, Search = _search, Filter = _filter, Difficulty = _difficulty, Verifier = _verifier,
        Page = _pageIndex, PageSize = PageSize,
    };

    /// <summary>Loads the current page; selects <paramref name="selectSet"/> (found on any page), else the first or last row.</summary>
    private async Task LoadPageAsync(long? selectSet = null, bool selectLast = false)
    {
        if (RunId is not int runId) return;
        try
        {
            if (selectSet is long wanted)
            {
                // Jump to the page holding the wanted prompt.
                var all = await Evaluations.PromptsAsync(runId, Query with { Page = 0, PageSize = int.MaxValue / 2 });
                int at = all.Items.ToList().FindIndex(r => r.SetId == wanted);
                if (at >= 0) _pageIndex = at / PageSize;
            }
            _page = await Evaluations.PromptsAsync(runId, Query);
            _difficulties = _page.Difficulties;
            _error = null;
            var target = selectSet is long s && _page.Items.Any(r => r.SetId == s) ? s
                : _page.Items.Count == 0 ? (long?)null : (selectLast ? _page.Items[^1].SetId : _page.Items[0].SetId);
            await LoadDetailAsync(target);
        }
        catch (ArgumentException e) { _error = e.Message; }
        catch (EvaluationNotFoundException e) { _error = e.Message; }
    }

    private async Task LoadDetailAsync(long? setId)
    {
        if (setId is not long id || RunId is not int runId) { _detail = null; _sampleList = []; _cardRows = []; return; }
        _detail = await Evaluations.PromptAsync(runId, id, _verifier, _k);
        _sampleList = _detail.Samples.ToList();
        _cardRows = _detail.Samples.Chunk(3).ToList();
    }

    private List<SampleView> _sampleList = [];
    private List<SampleView[]> _cardRows = [];

    private Task SelectRunAsync(int? runId)
    {
        Navigation.NavigateTo(runId is null ? "/inspector" : $"/inspector/{runId}");
        return Task.CompletedTask;
    }

    private async Task SelectTemperatureAsync(double t) { _temperature = t; _pageIndex = 0; await LoadPageAsync(); }
    private async Task SelectVerifierAsync(string v) { _verifier = v; await LoadPageAsync(_detail?.SetId); }
    private async Task SelectKAsync(int k) { _k = Math.Clamp(k, 1, Math.Max(1, _summary?.N ?? 1)); await LoadDetailAsync(_detail?.SetId); }
    private async Task SearchAsync(string? s) { _search = s; _pageIndex = 0; await LoadPageAsync(); }
    private async Task SelectFilterAsync(string f) { _filter = f; _pageIndex = 0; await LoadPageAsync(); }
    private async Task SelectDifficultyAsync(int? d) { _difficulty = d; _pageIndex = 0; await LoadPageAsync(); }
    private async Task SelectPageAsync(int page) { _pageIndex = page - 1; await LoadPageAsync(); }
    private async Task SelectPromptAsync(long setId) { await LoadDetailAsync(setId); await _root.FocusAsync(); }

    /// <summary>j / ↓: next prompt; k / ↑: previous prompt (moving to the next or previous page at the ends).</summary>
    private async Task OnKeyDownAsync(KeyboardEventArgs e)
    {
        if (_page is null || _page.Items.Count == 0) return;
        int step = e.Key switch { "j" or "ArrowDown" => 1, "k" or "ArrowUp" => -1, _ => 0 };
        if (step == 0) return;
        int index = _detail is null ? -1 : _page.Items.ToList().FindIndex(r => r.SetId == _detail.SetId);
        int next = index + step;
        if (next >= 0 && next < _page.Items.Count) { await LoadDetailAsync(_page.Items[next].SetId); return; }
        if (next >= _page.Items.Count && _pageIndex + 1 < PageCount) { _pageIndex++; await LoadPageAsync(); }
        else if (next < 0 && _pageIndex > 0) { _pageIndex--; await LoadPageAsync(selectLast: true); }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender) return;
        _interactive = true;
        StateHasChanged();
        try { await _root.FocusAsync(); } catch (Microsoft.JSInterop.JSException) { /* element not focusable yet: clicking it focuses it */ }
    }

    // ------------------------------------------------------------------------------------------- presentation

    /// <summary>The highlighted Best-of-N pick: the top-scoring sample(s) under the chosen verifier.</summary>
    private static bool IsPick(SampleView s) => s.IsArgmax;

    private int TieCount => _detail?.Samples.Count(s => s.IsArgmax) ?? 0;

    private string PickExplanation => _detail is null || _detail.Verifier is null ? "No verifier scores: no Best-of-N pick."
        : (TieCount > 1
            ? $"Best-of-N pick under {_detail.Verifier}: {TieCount} samples tie for the top score; each is highlighted and picked with probability 1/{TieCount} (random tie-break)."
            : $"Best-of-N pick under {_detail.Verifier}: the top-scoring sample is highlighted.")
          + (_detail.K < _detail.N ? $" For k = {_detail.K} < n, P(pick) is the chance a sample is the pick of a random {_detail.K}-subset." : "")
          + " ★ / 'majority' marks the most frequent answer.";


    private static string Verdict(SampleView s) => s.Correct switch { true => "✔ correct", false => "✘ wrong", null => "? unknown" };

    private static string CardStyle(SampleView s)
    {
        var border = s.IsArgmax ? "3px solid var(--mud-palette-primary)" : "1px solid var(--mud-palette-lines-default)";
        var background = s.Correct == true ? "rgba(76, 175, 80, 0.08)" : "transparent";
        return $"flex: 1 1 0; min-width: 0; border: {border}; background: {background}";
    }

    private static string RowStyle(SampleView s) =>
        (s.IsArgmax ? "outline: 2px solid var(--mud-palette-primary);" : "") + (s.Correct == true ? "background: rgba(76, 175, 80, 0.08);" : "");
}
