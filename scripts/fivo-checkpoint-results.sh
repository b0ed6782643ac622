#!/usr/bin/env bash
# Imports the two published FIVO checkpoints (../shared/data/fivo-checkpoints) and scores them on
# their chunked test splits at K = 4 and K = 128, under FIVO semantics (what they were trained
# with) and standard semantics (for comparison), over several evaluation seeds. Writes one JSON
# line per (checkpoint, K, semantics) to results/fivo-checkpoints.jsonl; the README's table and
# docs/CHOICES.md's evidence come from that file.
#
#   scripts/fivo-checkpoint-results.sh [SEEDS]     (default 5 seeds; ~15 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-5}
data=${VHRNN_DATA_DIR:-../shared/data}
out=results/fivo-checkpoints.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
make -s build >/dev/null
vhrnn=.build-openmp/release/vhrnn
: > "$out.tmp"
for entry in "trunc_jsb-fivo JSB_Chorales" "trunc_nottingham-fivo Nottingham"; do
  set -- $entry
  "$vhrnn" import-fivo "$data/fivo-checkpoints/$1" --data "pianoroll-chunks:100:$data/$2.pickle" --out "$work/$1" --json \
    > "$work/$1.import.json"
  for k in 4 128; do
    for semantics in fivo standard; do
      echo "$1 K=$k $semantics" >&2
      "$vhrnn" evaluate --checkpoint "$work/$1" --particles "$k" --semantics "$semantics" --repeats "$seeds" --json \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); i=json.load(open(sys.argv[1])); r["fivo_checkpoint"]=sys.argv[2]; r["trainable"]=i["trainable"]; r["paper_count"]=i["paper_count"]; r["data"]=r["data"].replace(sys.argv[3], "../shared/data"); r.pop("checkpoint"); print(json.dumps(r, sort_keys=True))' \
          "$work/$1.import.json" "$1" "$data" >> "$out.tmp"
    done
  done
done
mv "$out.tmp" "$out"
python3 - "$out" <<'PY'
import json, sys
print("| checkpoint | K | semantics | ELBO | IWAE | FIVO |")
print("|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    r = json.loads(line)
    cell = lambda b: f"{r[b]:.3f} ± {r[b + '_se']:.3f}" if b + "_se" in r else f"{r[b]:.3f}"
    print(f"| {r['fivo_checkpoint']} | {r['particles']} | {r['semantics']} | {cell('elbo')} | {cell('iwae')} | {cell('fivo')} |")
PY
