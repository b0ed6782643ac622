#!/usr/bin/env bash
# Documentation coverage of the VHRNN library target: how many public declarations have no
# `///` comment of their own, per folder, and which ones, per file.
#
#   scripts/doc-coverage.sh                 # summary per folder + every undocumented declaration
#   scripts/doc-coverage.sh --summary       # the summary only
#   scripts/doc-coverage.sh --strict        # exit 1 if any public declaration is undocumented
#   scripts/doc-coverage.sh Sources/VHRNN/Data Sources/VHRNN/Output   # list only these paths
#
# How: builds the VHRNN target (debug, in $SCRATCH, default .build-docs/coverage, so the flags
# below do not invalidate other builds) with the compiler emitting its symbol graph, then reads
# the graph with python3. A declaration counts when it is public (or open), written in
# Sources/VHRNN (it has a source location there) and is not synthesized by the compiler
# (memberwise `==`, `init(rawValue:)`, protocol default implementations: they have no source
# location and cannot carry a comment). It is documented when its doc comment is its own: a
# member that only inherits the protocol requirement's comment (`description`, `encode(to:)`)
# is listed as undocumented. Enum cases, stored properties, statics, initializers and methods
# all count, each overload separately.
#
# The DocC build has its own coverage table (which also counts synthesized symbols such as
# `==` and `init(rawValue:)`): `make docs DOCC_FLAGS=--experimental-documentation-coverage`.
set -euo pipefail

cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build-docs/coverage}
GRAPH_DIR="$SCRATCH/symbol-graph"

mode=full
strict=0
paths=()
for arg in "$@"; do
  case "$arg" in
    --summary) mode=summary ;;
    --strict) strict=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) paths+=("$arg") ;;
  esac
done

# Not cleared between runs: the compiler rewrites the graph whenever the module is rebuilt, and
# an up-to-date module is not rebuilt (so a cleared graph would not come back).
mkdir -p "$GRAPH_DIR"
if ! swift build --scratch-path "$SCRATCH" --target VHRNN \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$GRAPH_DIR" \
    > "$SCRATCH/doc-coverage-build.log" 2>&1; then
  cat "$SCRATCH/doc-coverage-build.log" >&2
  echo "doc-coverage: the build failed (log above)" >&2
  exit 2
fi

python3 - "$PWD" "$GRAPH_DIR" "$mode" "$strict" "${paths[@]+"${paths[@]}"}" <<'PY'
import collections, glob, json, os, sys
from urllib.parse import unquote, urlparse

root, graph_dir, mode, strict = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
only = [p.rstrip("/") for p in sys.argv[5:]]
source_root = os.path.join(root, "Sources", "VHRNN") + os.sep

def path_of(uri):
    return unquote(urlparse(uri).path)

decls = {}  # precise identifier -> (file, line, kind, title, documented)
for graph in sorted(glob.glob(os.path.join(graph_dir, "VHRNN*.symbols.json"))):
    for s in json.load(open(graph))["symbols"]:
        if s["accessLevel"] not in ("public", "open"):
            continue
        loc = s.get("location")
        if not loc:
            continue  # synthesized: nothing in the source to comment
        file = path_of(loc["uri"])
        if not file.startswith(source_root):
            continue
        doc = s.get("docComment")
        own = bool(doc) and path_of(doc.get("uri", "")) == file and any(
            l["text"].strip() for l in doc.get("lines", []))
        name = ".".join(s["pathComponents"])
        kind = s["kind"]["displayName"]
        line = loc["position"]["line"] + 1
        decls[s["identifier"]["precise"]] = (os.path.relpath(file, root), line, kind, name, own)

def folder(rel):
    parts = rel.split(os.sep)
    return parts[2] if len(parts) > 3 else "(top level)"

per_folder = collections.defaultdict(lambda: [0, 0])
for rel, _, _, _, own in decls.values():
    per_folder[folder(rel)][0] += 1
    per_folder[folder(rel)][1] += 0 if own else 1
total = len(decls)
missing = sum(1 for d in decls.values() if not d[4])

print(f"VHRNN public declarations: {total}, documented {total - missing}, "
      f"undocumented {missing} ({100.0 * (total - missing) / max(total, 1):.1f}% documented)")
print(f"  {'folder':<14}{'public':>8}{'undocumented':>14}")
for name in sorted(per_folder):
    t, m = per_folder[name]
    print(f"  {name:<14}{t:>8}{m:>14}")

if mode != "summary":
    undocumented = sorted(d for d in decls.values() if not d[4]
                          and (not only or any(d[0] == p or d[0].startswith(p + os.sep) for p in only)))
    current = None
    if undocumented:
        print("\nUndocumented public declarations, by file:")
    for rel, line, kind, name, _ in undocumented:
        if rel != current:
            current = rel
            print(f"\n{rel}")
        print(f"  {line:>5}  {kind:<18} {name}")

if strict and missing:
    sys.exit(1)
PY
