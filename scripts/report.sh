#!/bin/sh
# Rebuilds docs/RESULTS.md from the committed results files alone (no training): every spec of
# experiments/order.txt, with the claims of experiments/claims.json at the top.
#
#   scripts/report.sh                 # with the release build (make build)
#   VHRNN=path/to/vhrnn scripts/report.sh
set -eu
cd "$(dirname "$0")/.."
specs=$(grep -v '^#' experiments/order.txt | sed 's|.*|experiments/&.json|')
# shellcheck disable=SC2086
exec "${VHRNN:-.build-openmp/release/vhrnn}" experiment report $specs --claims experiments/claims.json --output docs/RESULTS.md
