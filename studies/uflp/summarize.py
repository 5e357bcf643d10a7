#!/usr/bin/env python3
"""Summarise UFLP study results (study.sh / queue.sh output) as markdown tables, fitted exponents and an SVG figure.

Usage: python3 studies/uflp/summarize.py [--svg FIGURE.svg] [--fit-max-n N] results.txt [more-results.txt ...]
Each line: '<tag> RESULT <run> solved_at=<n|never> steps=<n> ...' (or '<tag> STOPPED at <steps> ...' for a run stopped
by hand). Tags: scale_<cfg>_N<n>_s<seed>, abl_<cfg>_s<seed>, mont_<cfg>_s<seed>. A later line with the same tag
replaces an earlier one. Unsolved runs are censored: '>budget' (the steps they spent).

Cells give: solved/runs, median [min–max] of steps to solve. A median with unsolved runs counts them as +inf, so it
is shown only when more than half of the runs solved (then as '≥' if any was censored). Exponent fits (log steps vs
log N, least squares on the per-N medians) use the sizes where every run solved; the 95% interval of the exponent
is a bootstrap over seeds (runs resampled with replacement within each N, 2000 resamples, fixed seed).
Standard library only.
"""
import math
import random
import re
import sys
from collections import defaultdict

LABELS = {
    "boot_uflp": "BootDDQN + UFLP",
    "boot": "BootDDQN, no UFLP",
    "ddqn_uflp": "DDQN ε-greedy + UFLP (counts)",
    "ddqn": "DDQN ε-greedy, no UFLP",
    "bonus_uflp": "DDQN-Bonus (counts) + UFLP",
    "bonus": "DDQN-Bonus (counts), no UFLP",
}
ORDER = ["boot_uflp", "boot", "bonus_uflp", "bonus", "ddqn_uflp", "ddqn"]


def parse(paths, extra=None):
    """tag -> (solved_at|None, steps); extra (if a dict) also gets tag -> every key=value of the RESULT line"""
    rows = {}
    for path in paths:
        for line in open(path):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "STOPPED":  # '<tag> STOPPED at <steps> ...'
                rows[parts[0]] = (None, int(parts[3]))
            elif len(parts) >= 3 and parts[1] == "RESULT":
                kv = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
                rows[parts[0]] = (None if kv["solved_at"] == "never" else int(kv["solved_at"]), int(kv["steps"]))
                if extra is not None:
                    extra[parts[0]] = kv
    return rows


def median(xs):
    xs = sorted(xs); n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def fit(xs, ys):
    """least squares y = a + b x"""
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


def cell(runs):
    """runs: [(solved_at|None, steps)] -> markdown cell"""
    if not runs:
        return "–"
    solved = sorted(s for s, _ in runs if s is not None)
    censored = [st for s, st in runs if s is None]
    head = f"{len(solved)}/{len(runs)}"
    if len(solved) * 2 > len(runs):
        vals = solved + [math.inf] * len(censored)
        m = median(vals)
        hi = f">{max(censored)}" if censored else f"{solved[-1]}"
        return f"{head}: {'≥' if censored else ''}{m:g} [{solved[0]}–{hi}]"
    cens = ", ".join(f">{b}" + (f" ×{censored.count(b)}" if censored.count(b) > 1 else "") for b in sorted(set(censored)))
    if solved:
        return f"{head}: solved {', '.join(map(str, solved))}; {cens}"
    return f"{head}: {cens}"


def exponent(byn, rng, max_n=None):
    """(a, b, lo, hi, ns, rate, rss_power, rss_exponential) for log(median) = a + b log N over sizes fully solved (≥ 3 sizes), else None."""
    pts = {n: [s for s, _ in r] for n, r in sorted(byn.items())
           if r and all(s is not None for s, _ in r) and (max_n is None or n <= max_n)}
    if len(pts) < 3:
        return None
    ns = sorted(pts)
    a, b = fit([math.log(n) for n in ns], [math.log(median(pts[n])) for n in ns])
    ys = [math.log(median(pts[n])) for n in ns]
    a2, b2 = fit(ns, ys)
    rss_pow = sum((y - a - b * math.log(n)) ** 2 for n, y in zip(ns, ys))
    rss_exp = sum((y - a2 - b2 * n) ** 2 for n, y in zip(ns, ys))
    boots = []
    for _ in range(2000):
        meds = [median([rng.choice(pts[n]) for _ in pts[n]]) for n in ns]
        boots.append(fit([math.log(n) for n in ns], [math.log(m) for m in meds])[1])
    boots.sort()
    return a, b, boots[int(0.025 * len(boots))], boots[int(0.975 * len(boots)) - 1], ns, math.exp(b2), rss_pow, rss_exp


def svg(path, scale):
    """log-y plot of steps to solve vs N: median (dot) and range (bar) per config; censored runs as open triangles
    at their budget; the random-exploration expectation N·2^N dashed."""
    W, H, left, right, top, bottom = 720, 440, 70, 230, 30, 45
    ns_all = sorted({n for byn in scale.values() for n in byn})
    if not ns_all:
        return
    x0, x1 = ns_all[0] - 1, ns_all[-1] + 1
    y0, y1 = math.log10(500), math.log10(1e6)
    pw, ph = W - left - right, H - top - bottom
    X = lambda n: left + (n - x0) / (x1 - x0) * pw
    Y = lambda v: top + ph - (min(max(math.log10(v), y0), y1) - y0) / (y1 - y0) * ph
    colors = {"boot_uflp": "#1f77b4", "boot": "#9ecae1", "bonus_uflp": "#d62728", "bonus": "#ff9896",
              "ddqn_uflp": "#2ca02c", "ddqn": "#98df8a"}
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{left}" y="18" font-size="13">Deep Sea: simulator steps to solve vs N (median, range over seeds; log scale)</text>',
         f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
         f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>']
    for e in range(3, 7):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if y0 <= math.log10(v) <= y1:
                o.append(f'<line x1="{left}" y1="{Y(v):.1f}" x2="{left + pw}" y2="{Y(v):.1f}" stroke="#eee"/>')
                o.append(f'<text x="{left - 5}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
    for n in ns_all:
        o.append(f'<text x="{X(n):.1f}" y="{top + ph + 15}" text-anchor="middle">{n}</text>')
    o.append(f'<text x="{left + pw / 2}" y="{H - 8}" text-anchor="middle">Deep Sea size N</text>')
    # random exploration: 2^N episodes of N steps each
    pts = [(n, n * 2 ** n) for n in range(x0 + 1, x1) if math.log10(n * 2 ** n) <= y1 + 0.05]
    if len(pts) > 1:
        o.append('<polyline fill="none" stroke="gray" stroke-dasharray="5,4" points="' +
                 " ".join(f"{X(n):.1f},{Y(v):.1f}" for n, v in pts) + '"/>')
    cfgs = [c for c in ORDER if c in scale] + [c for c in scale if c not in ORDER]
    for i, cfg in enumerate(cfgs):
        col = colors.get(cfg, "black"); dx = (i - len(cfgs) / 2) * 3.0
        line = []
        for n, runs in sorted(scale[cfg].items()):
            solved = [s for s, _ in runs if s is not None]
            cens = [st for s, st in runs if s is None]
            for st in cens:
                x, y = X(n) + dx, Y(st)
                o.append(f'<path d="M{x - 4:.1f},{y + 3:.1f} L{x + 4:.1f},{y + 3:.1f} L{x:.1f},{y - 5:.1f} Z" fill="none" stroke="{col}"/>')
            if len(solved) * 2 > len(runs):
                m = median(solved + [math.inf] * len(cens))
                lo, hi = min(solved), (max(cens) if cens else max(solved))
                o.append(f'<line x1="{X(n) + dx:.1f}" y1="{Y(lo):.1f}" x2="{X(n) + dx:.1f}" y2="{Y(hi):.1f}" stroke="{col}"/>')
                if m != math.inf:
                    o.append(f'<circle cx="{X(n) + dx:.1f}" cy="{Y(m):.1f}" r="3.5" fill="{col}"/>')
                    line.append((X(n) + dx, Y(m)))
            else:
                for s in solved:
                    o.append(f'<circle cx="{X(n) + dx:.1f}" cy="{Y(s):.1f}" r="2.5" fill="none" stroke="{col}"/>')
        if len(line) > 1:
            o.append(f'<polyline fill="none" stroke="{col}" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in line) + '"/>')
        ly = top + 10 + i * 18
        o.append(f'<line x1="{left + pw + 10}" y1="{ly}" x2="{left + pw + 30}" y2="{ly}" stroke="{col}" stroke-width="2"/>')
        o.append(f'<text x="{left + pw + 35}" y="{ly + 4}">{LABELS.get(cfg, cfg)}</text>')
    ly = top + 10 + len(cfgs) * 18
    o.append(f'<line x1="{left + pw + 10}" y1="{ly}" x2="{left + pw + 30}" y2="{ly}" stroke="gray" stroke-dasharray="5,4"/>')
    o.append(f'<text x="{left + pw + 35}" y="{ly + 4}">random: N·2^N steps</text>')
    o.append(f'<text x="{left + pw + 10}" y="{ly + 22}">△ = censored run (unsolved at</text>')
    o.append(f'<text x="{left + pw + 22}" y="{ly + 36}">its budget, drawn at it)</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main(argv):
    svg_path, fit_max_n = None, None
    while len(argv) >= 2 and argv[0] in ("--svg", "--fit-max-n"):
        if argv[0] == "--svg":
            svg_path = argv[1]
        else:
            fit_max_n = int(argv[1])
        argv = argv[2:]
    if not argv:
        sys.exit(__doc__)
    details = {}
    rows = parse(argv, details)
    scale = defaultdict(lambda: defaultdict(list))
    other = defaultdict(list)
    for tag, (solved, steps) in sorted(rows.items(), key=lambda kv: kv[0]):
        m = re.match(r"scale_(.+)_N(\d+)_s(\d+)$", tag)
        if m:
            scale[m.group(1)][int(m.group(2))].append((solved, steps)); continue
        m = re.match(r"(abl|mont)_(.+)_s(\d+)$", tag)
        if m:
            other[m.group(1) + "_" + m.group(2)].append((solved, steps))
    rng = random.Random(0)
    if scale:
        cfgs = [c for c in ORDER if c in scale] + [c for c in scale if c not in ORDER]
        ns = sorted({n for cfg in scale.values() for n in cfg})
        print("| config | " + " | ".join(f"N={n}" for n in ns) + " |")
        print("|---|" + "---|" * len(ns))
        for cfg in cfgs:
            print(f"| {LABELS.get(cfg, cfg)} | " + " | ".join(cell(scale[cfg].get(n, [])) for n in ns) + " |")
        print()
        for cfg in cfgs:
            e = exponent(scale[cfg], rng, fit_max_n)
            if e is None:
                print(f"- {LABELS.get(cfg, cfg)}: fewer than 3 sizes where every run solved; no fit")
            else:
                a, b, lo, hi, used, rate, rss_pow, rss_exp = e
                print(f"- {LABELS.get(cfg, cfg)}: median steps to solve ≈ {math.exp(a):.3g}·N^{b:.2f} "
                      f"(95% bootstrap interval of the exponent {lo:.2f}–{hi:.2f}) over N = {used}; "
                      f"as an exponential ×{rate:.3f} per +1 in N (random exploration: ×2); residual sum of squares "
                      f"of log steps: power law {rss_pow:.3f}, exponential {rss_exp:.3f}")
        print()
        if svg_path:
            svg(svg_path, scale)
    if other:
        print("| study | runs |")
        print("|---|---|")
        for k, runs in other.items():
            print(f"| {k} | {cell(runs)} |")
    mont = sorted(t for t in details if t.startswith("mont_"))
    if mont:
        print()
        print("| run | best greedy eval return | training episodes | UFLP restarts | steps |")
        print("|---|---|---|---|---|")
        for t in mont:
            d = details[t]
            print(f"| {t} | {d.get('best_eval')} | {d.get('episodes')} | {d.get('resets')} | {d.get('steps')} |")


if __name__ == "__main__":
    main(sys.argv[1:])
