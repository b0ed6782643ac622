#!/usr/bin/env bash
# Checks that the filter's time loop does not allocate: counts malloc/calloc/realloc calls
# (an LD_PRELOAD interposer built into a temp folder) for training runs on data of length 50
# and 100, 1 and 61 steps each. The per-step count must not grow with the sequence length.
# Usage: scripts/count-allocations.sh   (after `swift build -c release --product vhrnn`)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VHRNN:-.build/release/vhrnn}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/count.c" <<'C'
#include <stdio.h>
#include <stddef.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static unsigned long calls;
void *malloc(size_t n) { calls++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { calls++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { calls++; return __libc_realloc(p, n); }
__attribute__((destructor)) static void report(void) { fprintf(stderr, "MALLOC_CALLS %lu\n", calls); }
C
cc -shared -fPIC -O2 -o "$tmp/count.so" "$tmp/count.c"
python3 - "$tmp" <<'PY'
import random, sys
random.seed(0)
for T in (50, 100):
    with open(f"{sys.argv[1]}/len{T}.csv", "w") as f:
        f.write("sequence,step,a,b\n")
        for s in range(40):
            for t in range(T):
                f.write(f"{s},{t},{random.gauss(0, 1)},{random.gauss(0, 1)}\n")
PY
count() {  # data length, steps, model
  LD_PRELOAD="$tmp/count.so" VHRNN_THREADS=1 OPENBLAS_NUM_THREADS=1 "$bin" train --data "csv:$tmp/len$1.csv" \
    --model "$3" --latent 4 --steps "$2" --validate-every 100000 --test-particles 0 --workers 1 2>&1 \
    | grep MALLOC_CALLS | grep -Eo '[0-9]+$'
}
for model in vrnn vhrnn; do
  for T in 50 100; do
    a=$(count "$T" 1 "$model"); b=$(count "$T" 61 "$model")
    echo "$model T=$T: $(( (b - a) / 60 )) allocations per training step (forward + backward + Adam)"
  done
done
