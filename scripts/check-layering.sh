#!/bin/sh
# Checks the library's one dependency direction ("Library layout" in CONTRIBUTING.md):
#
#   Core  <-  Loaders, Writers  <-  Experiments
#
# by compiling each layer with only the layers below it: Core alone, then Core + Loaders,
# then Core + Writers (each as one module in a scratch package of symlinks, so an upward
# reference is a compile error naming the file). The full library is Core + Loaders + Writers
# + Experiments and is built by `make build`.
#
#   scripts/check-layering.sh        # about two minutes of debug builds on 2 cores
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/vhrnn-layering"
rm -rf "$work"
check() {
  name=$1; shift
  dir="$work/$name"
  mkdir -p "$dir/Sources/Layer"
  ln -s "$root/CSources" "$dir/CSources"
  for layer in "$@"; do ln -s "$root/Sources/VHRNN/$layer" "$dir/Sources/Layer/$layer"; done
  cat > "$dir/Package.swift" <<PKG
// swift-tools-version:5.9
import PackageDescription
let package = Package(
    name: "Layer",
    targets: [
        .target(name: "CVHRNN", path: "CSources/CVHRNN", cSettings: [.headerSearchPath("impl")],
                linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("m"), .linkedLibrary("dispatch")]),
        .target(name: "Layer", dependencies: ["CVHRNN"], path: "Sources/Layer"),
    ]
)
PKG
  echo "== $name: $*"
  if ! (cd "$dir" && swift build --scratch-path "$work/.build-$name" 2>&1 | grep -E "error:" | sort -u); then :; fi
  (cd "$dir" && swift build --scratch-path "$work/.build-$name" > "$work/$name.log" 2>&1) \
    || { echo "layering violated: $name does not build without the layers above it (log: $work/$name.log)"; exit 1; }
  echo "   builds alone"
}
check core Core
check loaders Core Loaders
check writers Core Writers
echo "layering holds: Core <- Loaders, Writers <- Experiments"
