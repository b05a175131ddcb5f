#!/usr/bin/env bash
# bench/manifest-parts.sh - what the manifest in parts saves a one-change build: an A/B on one tree.
#
#   bash bench/manifest-parts.sh [FILES] [RUNS] [PARTS]     (defaults: 10000 5 1000)
#
# The synthetic tree of bench/incremental.sh (kept in ~/.cache/cachet-bench/tree-FILES) is built
# into two output folders with one cache: A with the manifest in one file, B with
# output.manifest_parts = PARTS (the second full build is all cache hits). Then RUNS no-op builds
# of each, alternating, and RUNS times: a line appended to one stylesheet, then a build of A and
# one of B. Prints each build's --timings of the steps that publish (ms), so the columns compare
# on the same machine in the same minutes. Run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-10000}
RUNS=${2:-5}
PARTS=${3:-1000}
BUILD=${CACHET_BUILD_DIR:-build}
TREE=$HOME/.cache/cachet-bench/tree-$FILES
[ -x "$BUILD/cachet" ] || { echo "manifest-parts: build cachet first (bash tools/dev.sh demo)" >&2; exit 2; }
[ -d "$TREE" ] || /usr/bin/python3 bench/make-tree.py "$TREE" "$FILES"
WORK=$(mktemp -d /tmp/cachet-parts-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp -a "$TREE" "$WORK/site"
find "$WORK/site" -type f -exec touch -d '1 hour ago' {} +
printf '[output]\nmanifest_parts = %s\n' "$PARTS" > "$WORK/parts.toml"
cachet=$(realpath "$BUILD/cachet")
build() { # A|B, then extra arguments
    local out=$WORK/out-$1 extra=()
    [ "$1" = B ] && extra=(--config "$WORK/parts.toml")
    shift
    "$cachet" build "$WORK/site" -o "$out" --cache-dir "$WORK/cache" -q "${extra[@]}" "$@"
}
steps() { # the --timings steps that publish (their own ms), then the whole build's ms
    grep -E "the others built|outputs flushed|manifest rendered|manifest parts written|manifest published|manifest unchanged|build done" |
        sed -E 's/^cachet: timing: +([0-9.]+) ms +\(\+ *([0-9.]+)\) +(.*)$/\3 \2 (at \1)/' | tr '\n' ';'
}
start=$(date +%s.%N); build A; echo "full build, A (one file):        $(echo "$(date +%s.%N) - $start" | bc) s"
start=$(date +%s.%N); build B; echo "full build, B (parts of $PARTS): $(echo "$(date +%s.%N) - $start" | bc) s (cache hits)"
sleep 1.2 # then every stat is trusted: the next builds are true no-ops
build A; build B
for i in $(seq "$RUNS"); do
    for v in A B; do echo "no-op $v: $(build $v --timings 2>&1 | steps)"; done
done
css=$(find "$WORK/site" -name '*.css' | sort | sed -n 1p)
for i in $(seq "$RUNS"); do
    echo ".parts$i { color: red }" >> "$css"
    for v in A B; do echo "one CSS $v: $(build $v --timings 2>&1 | steps)"; done
done
