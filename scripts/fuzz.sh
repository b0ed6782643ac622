#!/bin/sh
# Coverage-guided fuzzing of every reader of outside bytes (libFuzzer + AddressSanitizer).
#
#   scripts/fuzz.sh [TARGET ...]        (or: make fuzz [FUZZ_TARGETS="..."] [FUZZ_SECONDS=N])
#
# Builds the harness package in Fuzz/ into .build-fuzz, writes each target's seed corpus —
# derived from the real files in ../shared/data (or $VHRNN_DATA_DIR) and from the harness's own
# valid files — runs each target for FUZZ_SECONDS (default 600) and appends its final
# statistics to results/fuzz-summary.txt. A crash, leak, timeout (> 10 s for one input) or
# an allocation over 1 GB stops that target and leaves the input in .build-fuzz/findings/TARGET/;
# turn it into a regression test (Tests/VHRNNTests/Data/FuzzFindingsTests.swift) and fix it.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-600}
DATA=${VHRNN_DATA_DIR:-../shared/data}
BUILD=.build-fuzz
FUZZ=$BUILD/release/VHRNNFuzz
[ -d "$DATA" ] || { echo "fuzz: no data directory $DATA (set VHRNN_DATA_DIR)" >&2; exit 1; }

build() { (cd Fuzz && swift build -c release --sanitize=fuzzer --sanitize=address --scratch-path "../$BUILD"); }
build
# An incremental rebuild after library changes has been seen to drop the coverage
# instrumentation of the VHRNN module (libFuzzer then reports ~6k counters instead of ~38k,
# "no interesting inputs", and fuzzes blind): check, and rebuild from scratch if so.
counters=$(printf '' | VHRNN_FUZZ_TARGET=data-source SWIFT_BACKTRACE=enable=no "$FUZZ" -runs=1 2>&1 \
  | sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline.*/\1/p' | head -1)
if [ "${counters:-0}" -lt 20000 ]; then
  echo "fuzz: the harness has ${counters:-no} coverage counters (VHRNN not instrumented); rebuilding from scratch"
  rm -rf "$BUILD/release" "$BUILD/x86_64-unknown-linux-gnu/release"
  build
fi

ALL=$(VHRNN_FUZZ_TARGET=list "$FUZZ" 2>&1 | sed -n 's/^set VHRNN_FUZZ_TARGET to one of: //p' | tr -d ',')
TARGETS=${*:-${FUZZ_TARGETS:-$ALL}}

seeds() {  # seeds TARGET DIR: the seeds derived from the real files
  python3 - "$1" "$2" "$DATA" <<'PY'
import os, pickle, sys
target, out, data = sys.argv[1:4]
marker = b"\0VHFUZZ\0"
def put(name, content):
    with open(os.path.join(out, "real-" + name), "wb") as f: f.write(content)
def head(path, lines):
    with open(path, "rb") as f: return b"".join(f.readline() for _ in range(lines))
if target == "pickle":
    for name in ["JSB_Chorales", "Nottingham", "MuseData", "Piano-midi.de"]:
        d = pickle.load(open(os.path.join(data, name + ".pickle"), "rb"), encoding="latin1")
        small = {k: d[k][:2] for k in ("train", "valid", "test")}
        for s in small.values():
            for i in range(len(s)): s[i] = s[i][:12]
        for proto in (0, 2, 4, 5):
            put(f"{name}-p{proto}.pickle", pickle.dumps(small, protocol=proto))
        plain = {k: [[tuple(int(n) for n in frame) for frame in seq] for seq in v] for k, v in small.items()}
        put(f"{name}-ints.pickle", pickle.dumps(plain, protocol=2))
elif target == "stock":
    put("sp500-3-tickers.csv", head(os.path.join(data, "sp500_2008_ohlcv.csv"), 1 + 3 * 254))
elif target == "csv-table":
    rows = head(os.path.join(data, "sp500_2008_ohlcv.csv"), 1 + 2 * 254).decode().splitlines()
    text = "sequence,step," + ",".join(rows[0].split(",")[2:]) + "\n"
    text += "".join(f"{r.split(',')[0]},{i % 254},{','.join(r.split(',')[2:])}\n" for i, r in enumerate(rows[1:]))
    put("sp500-as-long-table.csv", text.encode())
    put("splits.csv", b"sequence,step,split,x,y\na,0,train,1,2\na,1,train,2,3\nb,0,valid,3,4\nc,0,test,5,6\nc,1,test,5,7\n")
    put("no-step.csv", b"sequence,v\n1,0.5\n1,-1e-3\n2,3e2\n3,4\n4,5\n")
elif target == "csv-folder":
    put("two-files", b"step,a,b\n0,1,2\n1,3,4\n" + marker + b"step,a,b\n1,5,6\n0,7,8\n" + marker + b"a,b\n1,1\n")
elif target == "ht-sensor":
    meta = open(os.path.join(data, "HT_Sensor_metadata.dat"), "rb").read()
    readings = b"id time R1 R2 R3 R4 R5 R6 R7 R8 Temp. Humidity\n" + b"".join(
        b"%d  %.8f%s\n" % (i, (k * 5 - 3600) / 3600, b"".join(b"  %.5f" % (10 + c + 0.01 * k) for c in range(10)))
        for i in range(4) for k in range(12))
    put("metadata-and-readings", meta + marker + readings)
elif target == "tf-checkpoint":
    root = os.path.join(data, "fivo-checkpoints")
    for ck in sorted(os.listdir(root)):
        d = os.path.join(root, ck)
        if not os.path.isdir(d): continue
        index = [f for f in os.listdir(d) if f.endswith(".index")][0]
        prefix = os.path.join(d, index[:-len(".index")])
        put(ck, open(prefix + ".index", "rb").read() + marker + open(prefix + ".data-00000-of-00001", "rb").read())
elif target == "experiment-spec":
    for f in sorted(os.listdir("experiments")):
        if f.endswith(".json") and f != "claims.json": put(f, open(os.path.join("experiments", f), "rb").read())
elif target == "claims":
    put("claims.json", open("experiments/claims.json", "rb").read())
elif target == "data-source":
    for i, s in enumerate(["synthetic", "synthetic:switch", "synthetic:rand:3", "pianoroll:/x/jsb.pickle",
                           "stock:/x.csv", "ht-sensor:/d", "csv:/x.csv", "jsb"]):
        put(f"{i}.txt", s.encode())
PY
}

mkdir -p results
for t in $TARGETS; do
  corpus=$BUILD/corpus/$t findings=$BUILD/findings/$t
  mkdir -p "$corpus" "$findings"
  seeds "$t" "$corpus"
  VHRNN_FUZZ_TARGET=$t VHRNN_FUZZ_WRITE_SEEDS="$corpus" "$FUZZ"
  echo "== $t: $(ls "$corpus" | wc -l) inputs in the corpus, ${SECONDS_PER_TARGET} s"
  log=$BUILD/fuzz-$t.log
  status=0
  started=$(date +%s)
  VHRNN_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=1 SWIFT_BACKTRACE=enable=no "$FUZZ" "$corpus" \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=1048576 -timeout=10 -rss_limit_mb=3072 -malloc_limit_mb=1024 \
    -artifact_prefix="$findings/" -print_final_stats=1 > "$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  found=$(ls "$findings" | wc -l)
  # The seconds actually fuzzed: a finding stops the target early (exit status not 0).
  line="$(date -u +%Y-%m-%dT%H:%MZ) $t: $(( $(date +%s) - started )) of ${SECONDS_PER_TARGET} s, ${execs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l), exit $status, findings $found"
  echo "$line" | tee -a results/fuzz-summary.txt
  [ "$status" = 0 ] || tail -40 "$log"
done
