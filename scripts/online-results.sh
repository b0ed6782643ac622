#!/bin/sh
# Issue 13's results: forecasts scored against the last-value and AR(1) baselines, and
# regime-shift detection on the synthetic SWITCH and RAND settings, for a VRNN and a VHRNN.
# Reads trained checkpoints (train them first, see docs/ONLINE.md), writes the JSON/CSV records
# to experiments/results/online/ and the charts to docs/figures/, then regenerates
# docs/ONLINE.md's tables (scripts/online_tables.py).
#
#   scripts/online-results.sh
#   SYN_VRNN=DIR SYN_VHRNN=DIR STOCK_VRNN=DIR STOCK_VHRNN=DIR VHRNN=path/to/vhrnn scripts/online-results.sh
set -eu
cd "$(dirname "$0")/.."
V=${VHRNN:-.build-openmp/release/vhrnn}
OUT=experiments/results/online
# The checkpoints: Table 1's VRNN Z=8 and VHRNN Z=4 (omega 64), seed 1, trained on the
# synthetic standard split; Fig. 5c's VRNN Z=16 and VHRNN Z=8 (6634 and 6878 parameters),
# seed 3, trained on the first half of 2008.
SYN_VRNN=${SYN_VRNN:-runs/online/table1/vrnn8-s1}
SYN_VHRNN=${SYN_VHRNN:-runs/online/table1/vhrnn4-omega64-s1}
STOCK_VRNN=${STOCK_VRNN:-runs/experiments/fig5c-stock/vrnn16-s3}
STOCK_VHRNN=${STOCK_VHRNN:-runs/experiments/fig5c-stock/vhrnn8-s3}
mkdir -p "$OUT" docs/figures

for model in vrnn vhrnn; do
  if [ $model = vrnn ]; then syn=$SYN_VRNN; stock=$STOCK_VRNN; else syn=$SYN_VHRNN; stock=$STOCK_VHRNN; fi
  for setting in switch rand; do
    for q in 0.9 0.99; do
      echo "== detect $model $setting q=$q"
      "$V" detect --checkpoint "$syn" --data "synthetic:$setting" --quantile $q --out "$OUT/detect-$setting-$model-q$q.json"
    done
  done
  echo "== forecast synthetic $model"
  "$V" forecast --checkpoint "$syn" --data synthetic:standard --evaluate --horizon 5 --paths 200 \
    --out "$OUT/forecast-synthetic-$model"
  echo "== forecast stock $model"
  "$V" forecast --checkpoint "$stock" --evaluate --horizon 5 --paths 200 --out "$OUT/forecast-stock-$model"
done

# Piano rolls: the FIVO reference's published JSB VRNN, imported, on its chunked test split.
if [ ! -d runs/fivo-jsb ]; then
  "$V" import-fivo ../shared/data/fivo-checkpoints/trunc_jsb-fivo \
    --data pianoroll-chunks:100:../shared/data/JSB_Chorales.pickle --out runs/fivo-jsb
fi
echo "== forecast jsb fivo-vrnn"
"$V" forecast --checkpoint runs/fivo-jsb --evaluate --horizon 5 --paths 100 --out "$OUT/forecast-jsb-fivo-vrnn"

# The charts of the worked examples (docs/ONLINE.md and the DocC article).
"$V" detect --checkpoint "$SYN_VHRNN" --data synthetic:switch --quantile 0.9 --chart docs/figures/online-switch-alarms.svg \
  --chart-sequence 0 > /dev/null
"$V" forecast --checkpoint "$STOCK_VHRNN" --sequence 0 --origin 60 --horizon 30 --dims 3,4 \
  --out docs/figures/online-stock-forecast > /dev/null
rm -f docs/figures/online-stock-forecast.csv docs/figures/online-stock-forecast.json
python3 scripts/online_tables.py
