#!/usr/bin/env python3
"""Runs `vhrnn gradcheck` for every case (model x cell x hyper input x emission x bound in FIVO
semantics, and model x cell x emission with FIVO in standard semantics, as the test suite's
ModelCheckCase.all) over seeds 1..N, and optionally every planted mutation over the cases it can
affect; writes one JSON line per run and prints a summary. A correct backward must pass every
run; a mutation must fail every run.

    scripts/gradcheck-sweep.py 100                       # cases x seeds 1-100
    scripts/gradcheck-sweep.py 100 --mutations           # mutations x FIVO cases x seeds 1-100
    scripts/gradcheck-sweep.py 100 --mutations --only dropped-bias
    scripts/gradcheck-sweep.py 100 --jobs 2 --out results/gradcheck-sweep.jsonl

The binary is .build-openmp/release/vhrnn (make build) unless $VHRNN names another.
"""
import argparse, concurrent.futures as cf, json, os, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("seeds", type=int)
ap.add_argument("--mutations", action="store_true")
ap.add_argument("--only", help="with --mutations: just this mutation")
ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
ap.add_argument("--out")
args = ap.parse_args()
binary = os.environ.get("VHRNN", ".build-openmp/release/vhrnn")

cases = []
for model in ["vrnn", "vhrnn"]:
    for cell in ["lstm", "gru"]:
        for emission in ["bernoulli", "gaussian"]:
            cases.append(dict(model=model, cell=cell, **{"hyper-input": "both"}, emission=emission, bound="fivo",
                              semantics="standard"))
        for hyper in (["both", "latent", "hidden"] if model == "vhrnn" else ["both"]):
            for emission in ["bernoulli", "gaussian"]:
                for bound in ["elbo", "iwae", "fivo"]:
                    cases.append(dict(model=model, cell=cell, **{"hyper-input": hyper}, emission=emission, bound=bound,
                                      semantics="fivo"))
runs = []
if args.mutations:
    # Every mutation on the cases it can affect: the ancestor scatter only where resampling happens.
    for m in [args.only] if args.only else ["dropped-ancestor-scatter", "dropped-residual-mean", "dropped-bias"]:
        for c in cases:
            if c["bound"] == "fivo":
                runs += [dict(c, mutation=m, seed=s) for s in range(1, args.seeds + 1)]
else:
    runs = [dict(c, seed=s) for c in cases for s in range(1, args.seeds + 1)]

env = dict(os.environ, VHRNN_THREADS="1")
def one(run):
    flags = [f"--{k}={v}" for k, v in run.items()]
    p = subprocess.run([binary, "gradcheck", "--json"] + flags, capture_output=True, text=True, env=env)
    try:
        out = json.loads(p.stdout)
    except json.JSONDecodeError:
        out = {"error": (p.stderr or p.stdout).strip()[:300]}
    return dict(run, **out, exit=p.returncode)

start = time.time()
results = []
with cf.ThreadPoolExecutor(args.jobs) as pool:
    for r in pool.map(one, runs):
        results.append(r)
sink = open(args.out, "w") if args.out else None
for r in results:
    if sink: sink.write(json.dumps(r, sort_keys=True) + "\n")
if sink: sink.close()

passed = [r for r in results if r.get("passed")]
expect_pass = not args.mutations
bad = [r for r in results if bool(r.get("passed")) != expect_pass]
print(f"{len(results)} runs ({len(runs) // args.seeds} cases x seeds 1-{args.seeds}) in {time.time() - start:.0f} s; "
      f"{len(passed)} passed, {len(results) - len(passed)} failed")
if expect_pass:
    worst = max(results, key=lambda r: r.get("max_rel_error", float("inf")))
    print(f"largest error after re-measurement: {worst.get('max_rel_error')} ({ {k: worst[k] for k in runs[0]} })")
    print(f"runs that needed a re-measurement: {sum(1 for r in results if r.get('remeasured', 0) > 0)}; "
          f"parameters re-measured: {sum(r.get('remeasured', 0) for r in results)}, "
          f"of which agreed: {sum(r.get('remeasured_agreed', 0) for r in results)}")
else:
    least = min(results, key=lambda r: r.get("max_rel_error", 0))
    print(f"smallest error under a mutation: {least.get('max_rel_error')} ({ {k: least[k] for k in runs[0]} })")
for r in bad[:20]:
    print("UNEXPECTED:", json.dumps(r, sort_keys=True))
sys.exit(1 if bad else 0)
