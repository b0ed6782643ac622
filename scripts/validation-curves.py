#!/usr/bin/env python3
"""Validation curves of a spec's runs, kept beside its results files.

The runner's work directories (runs/experiments/<spec>/<model>-s<seed>/metrics.jsonl) are not
committed; this copies the part a reader needs to judge training length — validation FIVO by
step, for every run that has a results file — into experiments/results/<spec>/validation-curves.csv
(columns: model, seed, step, valid_fivo), and prints per model the median validation at a few
steps, so "who leads when" can be read off committed data.

    scripts/validation-curves.py music-musedata [--work runs/experiments] [--at 10000,30000,60000]
"""
import argparse
import csv
import glob
import json
import os
import statistics
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", help="spec name, e.g. music-musedata")
    parser.add_argument("--work", default="runs/experiments", help="the runner's work directory")
    parser.add_argument("--results", default="experiments/results", help="the results directory")
    parser.add_argument("--at", default="10000,20000,30000,40000,50000,60000",
                        help="steps at which to print the median validation per model")
    args = parser.parse_args()

    rows = []
    for path in sorted(glob.glob(os.path.join(args.results, args.spec, "*.json"))):
        result = json.load(open(path))
        run = f"{result['model']}-s{result['seed']}"
        metrics = os.path.join(args.work, args.spec, run, "metrics.jsonl")
        if not os.path.exists(metrics):
            sys.exit(f"{metrics}: missing (the run's work directory is gone; its curve cannot be recovered)")
        for line in open(metrics):
            entry = json.loads(line)
            if "valid_fivo" in entry:
                rows.append((result["model"], result["seed"], entry["step"], entry["valid_fivo"]))
    if not rows:
        sys.exit(f"{args.spec}: no finished runs")
    out = os.path.join(args.results, args.spec, "validation-curves.csv")
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["model", "seed", "step", "valid_fivo"])
        for model, seed, step, value in rows:
            writer.writerow([model, seed, step, repr(value)])
    print(f"wrote {out} ({len(rows)} validations)")

    steps = [int(s) for s in args.at.split(",")]
    print("median validation FIVO per step (n runs):", "  ".join(f"{s:>14}" for s in steps))
    for model in sorted({r[0] for r in rows}):
        cells = []
        for s in steps:
            values = [v for m, _, st, v in rows if m == model and st == s]
            cells.append(f"{statistics.median(values):9.3f} ({len(values)})" if values else f"{'—':>14}")
        print(f"  {model:40s}", "  ".join(cells))


if __name__ == "__main__":
    main()
