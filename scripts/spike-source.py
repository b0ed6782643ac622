#!/usr/bin/env python3
"""Where a training run's largest gradient step comes from: which step, which tensor, which
training sequences and time steps, and what a second model makes of the same frames.

1. Trains the first model for --steps steps with a metrics line after every step (validation
   does not change the training trajectory: its noise is fixed and separate), and takes the
   step with the largest gradient norm (metrics.jsonl: grad_norm_max, grad_norm_max_tensor).
2. Trains both models (same data, seed, learning rate) to the step before it; both see the
   same batches, whose order depends only on the seed.
3. Runs `vhrnn diagnose --split train --particles 4` on every training sequence with each
   model's last/ checkpoint and lists the time steps with the lowest log weight under the
   first model, with both models' log weight, KL, predicted log-variance (mean over
   dimensions) and L2 error there; and `vhrnn log-weights --split train --particles 4` of each
   model (which term costs the lowest particles most, the smallest emission sigma there and
   the frame's error in those sigmas).

    scripts/spike-source.py --data stock:../shared/data/sp500_2008_ohlcv.csv --seed 1 --steps 400 \\
        --lr 1e-3 --model "vhrnn --latent 8" --other "vrnn --latent 16" \\
        > experiments/results/spike-source/fig5c-vhrnn8-vrnn16-s1.json

Prints one JSON object: {"command", "spike": {step, loss, grad_norm, tensor, tensor_norm},
"frames": [{sequence, step, model: {log_alpha, kl, log_variance, l2}, other: {...}}],
"log_weights": {model: <log-weights --json>, other: ...}}.
Needs the release build (make build) or VHRNN=path/to/vhrnn. Takes three to five minutes for
the stock data (345 training sequences).
"""
import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import tempfile


def train(binary, args, model, steps, validate_every, out):
    command = [binary, "train", "--data", args.data, *model.split(), "--lr", str(args.lr), "--steps", str(steps),
               "--validate-every", str(validate_every), "--valid-particles", "4", "--workers", "2",
               "--seed", str(args.seed), "--out", out]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def frames(binary, checkpoint, sequences, workdir):
    """(sequence, step) -> the diagnose row of every training sequence."""
    out = {}
    for s in range(sequences):
        prefix = os.path.join(workdir, f"s{s}")
        subprocess.run([binary, "diagnose", "--checkpoint", checkpoint, "--split", "train", "--sequence", str(s),
                        "--particles", "4", "--out", prefix], check=True, stdout=subprocess.DEVNULL)
        with open(prefix + ".csv") as f:
            for row in csv.DictReader(f):
                out[(s, int(row["step"]))] = {"log_alpha": float(row["log_alpha"]), "kl": float(row["kl"]),
                                              "log_variance": float(row["log_variance"]),
                                              "l2": float(row["l2_distance"])}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--steps", type=int, required=True, help="steps to search for the largest gradient")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--model", required=True, help='train flags of the model whose spike is traced, e.g. "vhrnn --latent 8"')
    p.add_argument("--other", required=True, help="train flags of the model compared on the same frames")
    p.add_argument("--sequences", type=int, default=345, help="training sequences to diagnose")
    p.add_argument("--top", type=int, default=8, help="frames to list")
    args = p.parse_args()
    args.model = "--model " + args.model
    args.other = "--model " + args.other
    binary = os.environ.get("VHRNN", ".build-openmp/release/vhrnn")
    with tempfile.TemporaryDirectory() as work:
        train(binary, args, args.model, args.steps, 1, os.path.join(work, "search"))
        with open(os.path.join(work, "search", "metrics.jsonl")) as f:
            lines = [json.loads(line) for line in f]
        worst = max((r for r in lines if r["grad_norm_max"] is not None), key=lambda r: r["grad_norm_max"])
        spike = {"step": worst["step"], "loss": worst["loss"], "grad_norm": worst["grad_norm_max"],
                 "tensor": worst["grad_norm_max_tensor"], "tensor_norm": worst["grad_norm_max_tensor_norm"]}
        print(f"largest step {spike['step']}: norm {spike['grad_norm']:.3g} ({spike['tensor']})", file=sys.stderr)
        if spike["step"] < 2:
            sys.exit("the largest step is the first; nothing to restore before it")
        seen = {}
        for name, flags in (("model", args.model), ("other", args.other)):
            out = os.path.join(work, name)
            train(binary, args, flags, spike["step"] - 1, spike["step"] - 1, out)
            diag = os.path.join(work, name + "-diagnose")
            os.makedirs(diag)
            seen[name] = frames(binary, os.path.join(out, "last"), args.sequences, diag)
            anatomy = subprocess.run([binary, "log-weights", "--checkpoint", os.path.join(out, "last"), "--split", "train",
                                      "--particles", "4", "--worst", str(args.top), "--json"],
                                     check=True, capture_output=True, text=True).stdout
            seen[name + "_log_weights"] = json.loads(anatomy)
            seen[name + "_log_weights"].pop("checkpoint", None)  # a temporary directory
        ranked = sorted(seen["model"], key=lambda k: seen["model"][k]["log_alpha"])[:args.top]
        result = {"command": shlex.join(["scripts/spike-source.py", *sys.argv[1:]]), "spike": spike,
                  "model": args.model, "other": args.other,
                  "frames": [{"sequence": s, "step": t, "model": seen["model"][(s, t)], "other": seen["other"][(s, t)]}
                             for s, t in ranked],
                  "log_weights": {"model": seen["model_log_weights"], "other": seen["other_log_weights"]}}
        json.dump(result, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
