#!/usr/bin/env python3
"""Figures for the bon-study (issue #4): SVG line charts from a study directory, standard library only.

usage: python3 studies/bon/plot.py <study out dir> <figure dir>
  bon_at_k.svg / pass_at_k.svg   BoN@k and pass@k against k (log scale), mean over seeds, per method + base
  base_temperature.svg           base model BoN@k against k at each sampling temperature
  base_temperature_pass.svg      base model pass@k against k at each sampling temperature
  train_reward.svg               training mean reward (checker) per step, mean over seeds
  weights_vs_failure.svg         mean sum |a_j| per prompt against the prompt's failure rate bin
"""
import csv
import glob
import json
import math
import os
import sys

COLORS = ["#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def line_chart(path, title, series, xlabel, ylabel, logx=False, width=640, height=400):
    """series: list of (name, [(x, y)], dashed)."""
    left, right, top, bottom = 60, 170, 30, 45
    xs = [x for _, pts, _ in series for x, _ in pts]
    ys = [y for _, pts, _ in series for _, y in pts]
    if not xs:
        return
    fx = (lambda v: math.log2(v)) if logx else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    y0, y1 = min(0.0, min(ys)), max(ys) * 1.05 if max(ys) > 0 else 1.0
    if x1 == x0:
        x1 = x0 + 1
    pw, ph = width - left - right, height - top - bottom
    X = lambda v: left + (fx(v) - x0) / (x1 - x0) * pw
    Y = lambda v: top + ph - (v - y0) / (y1 - y0) * ph
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">{title}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>']
    for i in range(6):
        v = y0 + (y1 - y0) * i / 5
        out.append(f'<line x1="{left - 4}" y1="{Y(v):.1f}" x2="{left + pw}" y2="{Y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    ticks = sorted(set(xs)) if len(set(xs)) <= 12 else [min(xs) + (max(xs) - min(xs)) * i / 6 for i in range(7)]
    if logx:
        ticks = [t for t in [1, 2, 4, 8, 16, 32, 64, 128] if min(xs) <= t <= max(xs)]
    for t in ticks:
        out.append(f'<text x="{X(t):.1f}" y="{top + ph + 15}" text-anchor="middle">{t:g}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text x="14" y="{top + ph / 2}" transform="rotate(-90 14 {top + ph / 2})" text-anchor="middle">{ylabel}</text>')
    for i, (name, pts, dashed) in enumerate(series):
        c = COLORS[i % len(COLORS)]
        d = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts)
        dash = ' stroke-dasharray="5,3"' if dashed else ""
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.8"{dash} points="{d}"/>')
        ly = top + 12 + 16 * i
        out.append(f'<line x1="{left + pw + 10}" y1="{ly}" x2="{left + pw + 30}" y2="{ly}" stroke="{c}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{left + pw + 35}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def mean(v):
    return sum(v) / len(v)


def curves(evals, key):
    """Mean over seeds of the dataset-mean curve."""
    per_seed = [[mean([p[key][k] for p in e["Prompts"]]) for k in range(len(e["Ks"]))] for e in evals]
    return [mean([c[k] for c in per_seed]) for k in range(len(per_seed[0]))]


def main(study, figs):
    os.makedirs(figs, exist_ok=True)
    evals = {}
    for f in sorted(glob.glob(os.path.join(study, "evals", "*.json"))):
        e = json.load(open(f))
        name = os.path.basename(f)[:-5]
        group = name.rsplit("-seed", 1)[0] if "-seed" in name else name
        evals.setdefault(group, []).append(e)
    base = [g for g in evals if g.startswith("base@T")]
    methods = [g for g in evals if not g.startswith("base@T")]
    study_t, verifier = None, None
    log = os.path.join(study, "study.log")
    if os.path.exists(log):
        for line in open(log):  # the last run's options and verifier decision win (the study may have been resumed)
            if '"Temperature":' in line:
                opts = json.loads(line.split("bon-study: ", 1)[1])
                study_t, verifier = opts["Temperature"], opts.get("Verifier")
            elif "verifier (auto):" in line:
                verifier = line.rsplit("⇒", 1)[1].strip()
    ref = f"base@T{study_t:g}" if study_t is not None else None
    picks = {"reward-model": "learned verifier picks", "noisy-oracle": "noisy oracle picks", "oracle": "oracle picks"}.get(verifier, f"{verifier} picks")
    for key, fname, label in [("BonAtK", "bon_at_k.svg", f"BoN@k ({picks})"), ("PassAtK", "pass_at_k.svg", "pass@k")]:
        series = []
        if ref in evals:
            c = curves(evals[ref], key)
            series.append(("base", [(k + 1, v) for k, v in enumerate(c)], True))
        for m in methods:
            c = curves(evals[m], key)
            series.append((m, [(k + 1, v) for k, v in enumerate(c)], False))
        line_chart(os.path.join(figs, fname), f"{label} on MiniMath test, mean over seeds", series, "k (samples)", label.split(" ")[0], logx=True)
    for key, fname, label in [("BonAtK", "base_temperature.svg", "BoN@k"), ("PassAtK", "base_temperature_pass.svg", "pass@k")]:
        series = []
        for g in sorted(base, key=lambda g: float(g[len("base@T"):])):
            c = curves(evals[g], key)
            series.append((g.replace("base@", ""), [(k + 1, v) for k, v in enumerate(c)], False))
        line_chart(os.path.join(figs, fname), f"Base model {label} by sampling temperature", series, "k (samples)", label, logx=True)

    series = []
    for m in sorted(glob.glob(os.path.join(study, "runs", "*"))):
        rows = {}
        for f in glob.glob(os.path.join(m, "seed*", "metrics.csv")):
            for r in csv.DictReader(open(f)):
                if r["name"] == "train/mean_reward":
                    rows.setdefault(int(r["step"]), []).append(float(r["value"]))
        if rows:
            series.append((os.path.basename(m), [(s, mean(v)) for s, v in sorted(rows.items())], False))
    line_chart(os.path.join(figs, "train_reward.svg"), "Training mean reward (checker) per step, mean over seeds", series, "step", "mean reward")

    series = []
    for m in sorted(glob.glob(os.path.join(study, "runs", "*"))):
        bins = {}
        for f in glob.glob(os.path.join(m, "seed*", "weights_vs_failure.csv")):
            for r in csv.DictReader(open(f)):
                if float(r["failure_rate"]) >= 1.0:
                    continue  # no correct sample: every weight is 0 (as in the summary table, these get their own column)
                b = min(4, int(float(r["failure_rate"]) * 5))
                bins.setdefault(b, []).append(float(r["weight_abs_sum"]))
        if bins and any(v for vs in bins.values() for v in vs):
            series.append((os.path.basename(m), [((b + 0.5) / 5, mean(v)) for b, v in sorted(bins.items())], False))
    line_chart(os.path.join(figs, "weights_vs_failure.svg"), "Weight mass per prompt vs failure rate p̂ = 1 − c/n", series, "failure rate bin centre", "mean Σ|a_j|")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
