#!/usr/bin/env python3
"""How much each trained run uses its latent and what its emission predicts, on test sequences:
mean KL(q || p), predicted log-variance and L2 error per step.

For every run directory given (an experiment work directory, runs/experiments/SPEC/MODEL-sSEED,
whose best/ checkpoint is read), runs `vhrnn diagnose --particles 1` on test sequences 0..N-1
and records the mean per-step KL of each sequence and their median, and the medians over the
sequences of the per-step emission log-variance (averaged over dimensions) and L2 error. A run whose latent is
(partly) collapsed has a median near 0; the runs of Fig. 5c that trained have 1.6-3.0 nats.

    scripts/latent-use.py runs/experiments/inv-stock-kl-warmup/* > experiments/results/latent-use/inv-stock-kl-warmup.jsonl

One JSON line per run: {"run", "sequences", "mean_kl_per_sequence", "median_kl",
"median_log_variance", "median_l2"}.
Needs the release build (make build) or VHRNN=path/to/vhrnn.
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile


def sequence_means(binary, checkpoint, sequence, workdir):
    prefix = os.path.join(workdir, f"s{sequence}")
    subprocess.run([binary, "diagnose", "--checkpoint", checkpoint, "--split", "test", "--sequence", str(sequence),
                    "--particles", "1", "--out", prefix], check=True, stdout=subprocess.DEVNULL)
    with open(prefix + ".csv") as f:
        rows = list(csv.DictReader(f))
    return {key: statistics.fmean(float(row[key]) for row in rows) for key in ("kl", "log_variance", "l2_distance")}


def main(argv):
    sequences = 8
    if len(argv) > 2 and argv[1] == "--sequences":
        sequences = int(argv[2])
        argv = argv[2:]
    runs = argv[1:]
    if not runs:
        sys.exit("usage: scripts/latent-use.py [--sequences N] RUN_DIR...")
    binary = os.environ.get("VHRNN", ".build-openmp/release/vhrnn")
    with tempfile.TemporaryDirectory() as workdir:
        for run in runs:
            checkpoint = os.path.join(run, "best")
            if not os.path.isdir(checkpoint):
                print(f"{run}: no best/ checkpoint, skipped", file=sys.stderr)
                continue
            means = [sequence_means(binary, checkpoint, j, workdir) for j in range(sequences)]
            kls = [m["kl"] for m in means]
            print(json.dumps({"run": os.path.normpath(run), "sequences": sequences,
                              "mean_kl_per_sequence": [round(k, 4) for k in kls],
                              "median_kl": round(statistics.median(kls), 4),
                              "median_log_variance": round(statistics.median(m["log_variance"] for m in means), 4),
                              "median_l2": round(statistics.median(m["l2_distance"] for m in means), 4)}), flush=True)


if __name__ == "__main__":
    main(sys.argv)
