#!/usr/bin/env bash
# Trains the same models under both step semantics (fivo, standard) with the same seeds and
# budget, and records each run's test bounds (best-validation model) in
# results/semantics-experiment.jsonl. Resumable: a run already in the file is skipped, so an
# interrupted session continues where it stopped.
#
#   scripts/semantics-experiment.sh            (~15 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${VHRNN_DATA_DIR:-../shared/data}
out=results/semantics-experiment.jsonl
runs=${RUNS_DIR:-runs/semantics}
touch "$out"
make -s build >/dev/null
vhrnn=.build-openmp/release/vhrnn

run() {  # name, then train arguments
  local name=$1; shift
  if grep -q "\"run\": \"$name\"" "$out"; then echo "skip $name (done)" >&2; return; fi
  echo "run $name" >&2
  rm -rf "$runs/$name"
  "$vhrnn" train "$@" --out "$runs/$name" --json \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); r["run"]=sys.argv[1]; r["args"]=sys.argv[2:]; print(json.dumps(r, sort_keys=True))' "$name" "$@" \
    >> "$out"
}

for seed in 1 2 3; do
  for semantics in fivo standard; do
    run "syn-vrnn8-$semantics-s$seed" --data synthetic --model vrnn --latent 8 --fc-layers 2 --steps 6000 \
      --validate-every 600 --semantics "$semantics" --seed "$seed"
    run "syn-vhrnn4-$semantics-s$seed" --data synthetic --model vhrnn --latent 4 --fc-layers 2 --steps 6000 \
      --validate-every 600 --semantics "$semantics" --seed "$seed"
  done
done
for seed in 1 2; do
  for semantics in fivo standard; do
    run "jsb-vhrnn14-$semantics-s$seed" --data "pianoroll:$data/JSB_Chorales.pickle" --model vhrnn --latent 14 \
      --lr 3e-4 --steps 15000 --validate-every 1500 --valid-particles 16 --semantics "$semantics" --seed "$seed"
  done
done
