#!/usr/bin/env python3
"""Regenerates the tables of docs/ONLINE.md (between its `<!-- online-tables -->` markers) from
the records scripts/online-results.sh wrote to experiments/results/online/. Reads only those
files: every number in the tables comes from a run."""
import json
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
RESULTS = os.path.join(ROOT, "experiments", "results", "online")
DOC = os.path.join(ROOT, "docs", "ONLINE.md")
MODELS = [("vrnn", "VRNN"), ("vhrnn", "VHRNN")]


def load(name):
    with open(os.path.join(RESULTS, name)) as f:
        return json.load(f)


def forecast_table(data):
    rows = ["| model | forecaster | " + " | ".join(f"h={h}" for h in range(1, 6)) + " | all h: CRPS | log score | 90% coverage |",
            "|---|---|" + "---|" * 5 + "---|---|---|"]
    for key, label in MODELS:
        r = load(f"forecast-{data}-{key}.json")
        for f in r["forecasters"]:
            name = {"model": f"**{label}**", "last-value": "last value", "ar1": "AR(1)"}[f["name"]]
            by = " | ".join(f"{s['crps']:.3f}" for s in f["byStepsAhead"])
            o = f["overall"]
            rows.append(f"| {label} | {name} | {by} | {o['crps']:.3f} | {o['logScore']:.3f} | {o['coverage']:.3f} |")
    r = load(f"forecast-{data}-vrnn.json")
    s = r["settings"]
    note = (f"{r['sequences']} test sequences, {r['origins']} origins (every {s['stride']} frame after {s['warmup']}), "
            f"{s['paths']} paths, K = {r['particles']} {r['bound']}; per-h columns are the CRPS (mean per value).")
    return "\n".join(rows) + "\n\n" + note


def binary_forecast_table(name, label):
    r = load(name)
    rows = ["| forecaster | " + " | ".join(f"h={h}" for h in range(1, 6)) + " | all h: Brier | log score |",
            "|---|" + "---|" * 5 + "---|---|"]
    for f in r["forecasters"]:
        shown = {"model": f"**{label}**", "last-value": "last value", "ar1": "AR(1) (Markov chain per key)"}[f["name"]]
        by = " | ".join(f"{s['crps']:.4f}" for s in f["byStepsAhead"])
        o = f["overall"]
        rows.append(f"| {shown} | {by} | {o['crps']:.4f} | {o['logScore']:.3f} |")
    s = r["settings"]
    note = (f"{r['sequences']} test chunks, {r['origins']} origins (every {s['stride']} frame after {s['warmup']}), "
            f"{s['paths']} paths, K = {r['particles']} {r['bound']}; per-h columns are the Brier score per key; the log score "
            "is of the whole 88-key frame.")
    return "\n".join(rows) + "\n\n" + note


def detection_table(setting):
    rows = ["| model | quantile | score | threshold | detected | chance | mean delay | false alarms / 1000 | by kind of switch |",
            "|---|---|---|---|---|---|---|---|---|"]
    for key, label in MODELS:
        for q in ["0.9", "0.99"]:
            r = load(f"detect-{setting}-{key}-q{q}.json")
            t = r["thresholds"]["thresholds"]
            for d in r["detection"]["detectors"]:
                delay = "–" if d.get("meanDelay") is None else f"{d['meanDelay']:.2f}"
                kinds = "; ".join(f"{k} {v['detected']}/{v['switches']}" for k, v in sorted((d.get("byLabel") or {}).items()))
                # Detections expected if the alarms fell at random at the false-alarm rate.
                chance = 1 - (1 - d["falseAlarmsPer1000"] / 1000) ** r["detection"]["tolerance"]
                rows.append(f"| {label} | {q} | {d['score']} | {t[d['score']]:.3g} | "
                            f"{d['detected']} of {d['switches']} | {100 * chance:.0f}% | {delay} | "
                            f"{d['falseAlarmsPer1000']:.1f} | {kinds} |")
    r = load(f"detect-{setting}-vrnn-q0.99.json")
    note = (f"Thresholds from {r['thresholds']['calibrationFrames']} training frames (the standard split), "
            f"window {r['thresholds']['window']}, warm-up {r['thresholds']['warmup']}, tolerance "
            f"{r['detection']['tolerance']} frames, K = {r['particles']} {r['bound']}; "
            f"{r['detection']['sequences']} test sequences, {r['detection']['scoredFrames']} scored frames. "
            "*Chance*: the share of switches random alarms at the false-alarm rate would hit within the tolerance.")
    return "\n".join(rows) + "\n\n" + note


def main():
    tables = ("### Forecasts: synthetic standard test split\n\n" + forecast_table("synthetic")
              + "\n\n### Forecasts: Stock, second half of 2008 (test tickers)\n\n" + forecast_table("stock")
              + "\n\n### Forecasts: JSB Chorales (the FIVO reference's published VRNN, imported)\n\n"
              + binary_forecast_table("forecast-jsb-fivo-vrnn.json", "FIVO VRNN")
              + "\n\n### Regime shifts: SWITCH\n\n" + detection_table("switch")
              + "\n\n### Regime shifts: RAND\n\n" + detection_table("rand"))
    with open(DOC) as f:
        text = f.read()
    begin, end = "<!-- online-tables:begin (scripts/online_tables.py) -->", "<!-- online-tables:end -->"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no {begin} ... {end} markers")
    text = pattern.sub(lambda _: begin + "\n" + tables + "\n" + end, text)
    with open(DOC, "w") as f:
        f.write(text)
    print(f"wrote the tables of {DOC}")


if __name__ == "__main__":
    main()
