#!/bin/sh
# The test suite under the sanitizers, on both parallel backends (make test-sanitize).
#
#   scripts/test-sanitize.sh [address|thread ...]     (default: address thread)
#
# address: the whole suite under AddressSanitizer (Swift and C) with UndefinedBehaviorSanitizer
#   on the C kernels (Swift has no -sanitize=undefined on Linux; its own arithmetic traps on
#   overflow anyway), any report fatal. Builds .build-asan (libdispatch) and .build-asan-openmp.
# thread: the parallel kernels, the particle filter and data-parallel training under
#   ThreadSanitizer. With OpenMP, LLVM's Archer tool (libarcher.so from libomp-dev) tells TSan
#   about OpenMP's barriers, which it cannot see in the uninstrumented libomp.
# Appends one line per run to results/sanitizers.txt. Slow: about an hour on 2 cores.
set -eu
cd "$(dirname "$0")/.."
KINDS=${*:-address thread}
TSAN_FILTER='KernelValueTests|KernelGradientTests|BoundTests|BookkeepingTests|TrainerTests|InferenceSamplingTests|InferenceDiagnosticsTests|LogWeightAnatomyTests|ModelGradientTests|StepSemanticsTests|ResamplingSchemeTests'
ARCHER=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | tail -1 || true)
mkdir -p results

run() {  # run NAME SCRATCH OPENMP(0|1) SANITIZER-FLAGS... -- TEST-ARGS...
  name=$1 scratch=$2 openmp=$3; shift 3
  flags=""; while [ "$1" != "--" ]; do flags="$flags $1"; shift; done; shift
  mkdir -p "$scratch"
  log=$scratch/sanitize-test.log
  echo "== $name: building and testing in $scratch (log $log)"
  start=$(date +%s)
  status=0
  env $([ "$openmp" = 1 ] && echo VHRNN_OPENMP=1 || echo VHRNN_DISPATCH=1) swift test $flags --scratch-path "$scratch" --disable-xctest "$@" \
    > "$log" 2>&1 || status=$?
  summary=$(grep -E "^✔ Test run|^✘ Test run" "$log" | tail -1)
  reports=$(grep -c -E "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:|ERROR: LeakSanitizer" "$log" || true)
  line="$(date -u +%Y-%m-%dT%H:%MZ) $name: exit $status, ${reports} sanitizer reports, $(( $(date +%s) - start )) s; ${summary:-no test summary}"
  echo "$line" | tee -a results/sanitizers.txt
  [ "$status" = 0 ] && [ "$reports" = 0 ] || { grep -E -A12 "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:|✘" "$log" | head -60; return 1; }
}

# CLI tests run the sanitized binary: give each command more time than its usual timeout.
export VHRNN_TEST_TIMEOUT_SCALE=${VHRNN_TEST_TIMEOUT_SCALE:-6}
failed=0
for kind in $KINDS; do
  case $kind in
  address)
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SWIFT_BACKTRACE=enable=no
    UB="-Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined"
    run "asan+ubsan libdispatch" .build-asan 0 -Xcc -O1 $UB --sanitize=address -- || failed=1
    run "asan+ubsan openmp" .build-asan-openmp 1 -Xcc -O1 $UB --sanitize=address -- || failed=1
    unset ASAN_OPTIONS UBSAN_OPTIONS
    ;;
  thread)
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SWIFT_BACKTRACE=enable=no
    run "tsan libdispatch" .build-tsan 0 --sanitize=thread -Xcc -O1 -- --filter "$TSAN_FILTER" || failed=1
    [ -n "$ARCHER" ] || { echo "no libarcher.so (libomp-dev): cannot run TSan on the OpenMP build" >&2; exit 1; }
    OMP_TOOL_LIBRARIES=$ARCHER TSAN_OPTIONS="$TSAN_OPTIONS:ignore_noninstrumented_modules=1" \
      run "tsan openmp (archer)" .build-tsan-openmp 1 --sanitize=thread -Xcc -O1 -- --filter "$TSAN_FILTER" || failed=1
    ;;
  *) echo "unknown sanitizer kind $kind (address, thread)" >&2; exit 2 ;;
  esac
done
exit $failed
