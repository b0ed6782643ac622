#!/bin/sh
# Runs the paper's experiment specs one after another, in the order of experiments/order.txt
# (Table 1 on both matrix families, Table 2, Table 3, the Table 1 investigations, Fig. 5a,
# Fig. 9, Stock, Piano-midi.de, Nottingham, MuseData). Each `experiment run` skips finished
# runs and resumes interrupted ones from their `last/` checkpoint, so this script can be killed
# and restarted at any time (it first waits for a runner that is still going).
#
# The runner re-executes its own binary for every run; it is copied to runs/bin first (renamed
# into place, so a running copy is not overwritten) so that rebuilding the package while
# experiments run does not change the binary under them.
#
#   nohup scripts/run-experiments.sh > runs/experiments.log 2>&1 &
#   scripts/run-experiments.sh table2 fig5a-jsb     # only these specs
set -eu
cd "$(dirname "$0")/.."
while pgrep -f "runs/bin/vhrnn experiment run" > /dev/null; do sleep 30; done
mkdir -p runs/bin
cp .build-openmp/release/vhrnn runs/bin/vhrnn.new && mv runs/bin/vhrnn.new runs/bin/vhrnn
specs="${*:-$(grep -v '^#' experiments/order.txt)}"
for spec in $specs; do
  echo "== $(date -u +%FT%TZ) $spec"
  runs/bin/vhrnn experiment run "experiments/$spec.json"
done
echo "== $(date -u +%FT%TZ) done"
