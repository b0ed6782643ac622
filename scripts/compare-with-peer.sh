#!/usr/bin/env bash
# Side-by-side throughput: this package's workload benchmark vs the PyTorch peer
# (/work/shared/peers/pytorch by default), same rows, same flop convention.
#
#   scripts/compare-with-peer.sh            # ours, then the peer (eager + torch.compile), then the table
#
# Environment:
#   PEER_DIR     the peer's folder (read-only; it is run in place, never copied)
#   PEER_PYTHON  its venv's python (default /tmp/peer-venv/bin/python; see the peer's README)
#   PEER_MODES   peer modes (default eager,compile; compile takes several minutes)
#   OUT          output folder (default /tmp/vhrnn-compare-<timestamp>); the peer runs from there,
#                since it writes its outputs into its current folder
#   BACKEND      dispatch (default: plain `swift build`) or openmp (VHRNN_OPENMP=1, as `make bench`)
#   PEER_ONLY    comma-separated peer configurations (bench.py --only), e.g. jsb-vrnn32
#   SKIP_PEER=1  reuse $OUT/peer.json from an earlier run
#   BENCH_ARGS   extra arguments for our bench (e.g. --quick)
#   FORCE=1      print ratios even when the load check failed (the bench's, or load > 3 after the peer)
#   OMP_WAIT_POLICY  unset by default (each runtime's own default: OpenMP threads spin while
#                idle). Set OMP_WAIT_POLICY=PASSIVE (exported to both sides) when the cores are
#                busy with other work: PyTorch's spinning threads then collapse (here, at load ~7,
#                one small Linear+ReLU took 1.6 ms instead of 30 µs). On a quiet machine PASSIVE
#                costs the peer 3-7x (a thread wake-up per op), so do not use it there.
#
# Outputs in $OUT: ours.json/ours.log, peer.json/peer_table.md/peer.log, ratio.md.
# Both sides use all cores (the peer fixes 2 threads); other load on the machine skews both, so
# compare ratios from one run, not absolute figures across runs.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PEER_DIR=${PEER_DIR:-/work/shared/peers/pytorch}
PEER_PYTHON=${PEER_PYTHON:-/tmp/peer-venv/bin/python}
PEER_MODES=${PEER_MODES:-eager,compile}
OUT=${OUT:-/tmp/vhrnn-compare-$(date +%Y%m%d-%H%M%S)}
BACKEND=${BACKEND:-dispatch}
BENCH_ARGS=${BENCH_ARGS:-}
if [ -n "${OMP_WAIT_POLICY:-}" ]; then export OMP_WAIT_POLICY; else unset OMP_WAIT_POLICY; fi
mkdir -p "$OUT"
echo "output folder: $OUT   OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(runtime default)}   load: $(cut -d' ' -f1-3 /proc/loadavg)"

case "$BACKEND" in
  dispatch) build_env=(); scratch=(); bin="$REPO/.build/release/bench" ;;
  openmp)   build_env=(VHRNN_OPENMP=1); scratch=(--scratch-path "$REPO/.build-openmp")
            bin="$REPO/.build-openmp/release/bench" ;;
  *) echo "BACKEND must be dispatch or openmp" >&2; exit 2 ;;
esac

echo "== ours: bench --workloads-only ($BACKEND) =="
(cd "$REPO" && env "${build_env[@]}" swift build -c release "${scratch[@]}" --product bench)
# shellcheck disable=SC2086
"$bin" --workloads-only --json "$OUT/ours.json" $BENCH_ARGS | tee "$OUT/ours.log"

if [ "${SKIP_PEER:-0}" != 1 ]; then
  echo "== peer: bench.py --modes $PEER_MODES (from $OUT) =="
  [ -x "$PEER_PYTHON" ] || { echo "no $PEER_PYTHON: set up the peer's venv (see $PEER_DIR/README.md)" >&2; exit 1; }
  only=()
  [ -z "${PEER_ONLY:-}" ] || only=(--only "$PEER_ONLY")
  (cd "$OUT" && "$PEER_PYTHON" "$PEER_DIR/bench.py" --modes "$PEER_MODES" "${only[@]}" --out peer) | tee "$OUT/peer.log"
fi

echo "== side by side =="
# Ratios only from a quiet run: the bench's load check (load_trusted in ours.json) must pass,
# and the load now (after the peer ran) must still be low, unless FORCE=1.
trusted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["machine"].get("load_trusted", False))' "$OUT/ours.json")
load_now=$(cut -d' ' -f1 /proc/loadavg)
if { [ "$trusted" != "True" ] || python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 3.0 else 1)' "$load_now"; } \
   && [ "${FORCE:-0}" != "1" ]; then
  echo "refusing to print ratios: the machine was not quiet (bench load check: $trusted; 1-min load now $load_now)." >&2
  echo "Stop other work and rerun, or set FORCE=1 to print them anyway (and say so wherever they are used)." >&2
  exit 3
fi
python3 "$REPO/scripts/join_peer_results.py" "$OUT/ours.json" "$OUT/peer.json" | tee "$OUT/ratio.md"
