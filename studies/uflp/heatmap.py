#!/usr/bin/env python3
"""Prints a run's grid.json (final visits and uncertainty per cell) as text heatmaps.

Usage: python3 studies/uflp/heatmap.py <run-dir>/grid.json
Visits use a log scale: ' ' none, then .:-=+*#%@ for 1, 10, 100, ... visits. Uncertainty: 0-9 scaled to the max.
"""
import json, math, sys

g = json.load(open(sys.argv[1]))
rows, cols, visits, u = g["Rows"], g["Cols"], g["Visits"], g["Uncertainty"]
shades = " .:-=+*#%@"
print(f"visits after {g['SimulatorSteps']} steps (log10 scale, '{shades}')")
for r in range(rows):
    print("".join(shades[min(len(shades) - 1, 0 if visits[r * cols + c] == 0 else 1 + int(math.log10(visits[r * cols + c])))] for c in range(cols)))
vals = [x for x in u if isinstance(x, (int, float)) and not math.isnan(x)]
top = max(vals) if vals else 1
print("uncertainty u(s) (0-9 of the max; '.' = unreachable)")
for r in range(rows):
    line = ""
    for c in range(cols):
        x = u[r * cols + c]
        line += "." if not isinstance(x, (int, float)) or math.isnan(x) else str(min(9, int(10 * x / top)))
    print(line)
