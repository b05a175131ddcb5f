#!/usr/bin/env bash
# bench/rate-sweep.sh - per-(source, width) bytes and Butteraugli distance of one format at several
# fixed qualities, for designing a per-image rate control (issue 21).
#
#   bash bench/rate-sweep.sh FORMAT "Q1 Q2 ..." [JOBS] [MAX_WIDTH] > sweep.tsv
#
# Builds the peer corpus (bench/peer-sharp.sh's tree of the corpus' images, which must exist) in
# FORMAT only (no fallback) at each quality, keeping outputs up to MAX_WIDTH (default 2048) wide,
# and measures each with build/cachet-distance. Prints one row per output: source, width, pixels,
# quality, bytes, distance, half (bench/halves.py). With sharp's run in ~/.cache/cachet-bench,
# its outputs of FORMAT are measured too (quality "sharp").
set -euo pipefail
cd "$(dirname "$0")/.."
FORMAT=$1
QUALITIES=$2
JOBS=${3:-$(nproc)}
MAXW=${4:-2048}
SRC=$HOME/.cache/cachet-bench/peer-src
[ -d "$SRC" ] || { echo "rate-sweep: run bench/peer-sharp.sh once first (it makes $SRC)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/cachet-sweep-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
(cd "$SRC" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) > "$WORK/images"
sed "s|^|$SRC/|" "$WORK/images" | /usr/bin/python3 bench/halves.py > "$WORK/halves"
for q in $QUALITIES; do
  printf '[images]\nformats = ["%s"]\nfallback = false\n[images.%s]\nquality = %s\n' "$FORMAT" "$FORMAT" "$q" > "$WORK/q$q.toml"
  ./build/cachet build "$SRC" -o "$WORK/q$q" -j "$JOBS" --no-cache --quiet --config "$WORK/q$q.toml" >&2 || true
done
SHARP_RUN=$(ls -d "$HOME"/.cache/cachet-bench/sharp-run-* 2>/dev/null | head -1 || true)
/usr/bin/python3 - "$WORK" "$MAXW" "$SRC" "$FORMAT" "$SHARP_RUN" $QUALITIES > "$WORK/pairs" <<'PY'
import json, sys
work, maxw, src, fmt, sharp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
for q in sys.argv[6:]:
    m = json.load(open(f"{work}/q{q}/cachet-manifest.json"))
    for source, a in m["assets"].items():
        for o in a["outputs"]:
            if o.get("format") == fmt and o["width"] <= maxw and not o.get("original"):
                print(f"{src}/{source}\t{work}/q{q}/{o['path']}\t{q}\t{o['width']}\t{o['height']}\t{o['bytes']}")
if sharp:
    for r in json.load(open(f"{sharp}/sharp-manifest.json")):
        if r["format"] == fmt and r["width"] <= maxw:
            print(f"{r['source']}\t{sharp}/{r['path']}\tsharp\t{r['width']}\t{r.get('height', 0)}\t{r['bytes']}")
PY
echo "rate-sweep: measuring $(wc -l < "$WORK/pairs") outputs" >&2
cut -f1,2 "$WORK/pairs" | ./build/cachet-distance "$JOBS" > "$WORK/distances"
/usr/bin/python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
dist = dict(line.rstrip("\n").split("\t") for line in open(f"{work}/distances"))
half = dict(reversed(line.rstrip("\n").split("\t")) for line in open(f"{work}/halves"))
print("source\twidth\tpixels\tquality\tbytes\tdistance\thalf")
for line in open(f"{work}/pairs"):
    source, path, q, w, h, b = line.rstrip("\n").split("\t")
    print(f"{source}\t{w}\t{int(w) * int(h)}\t{q}\t{b}\t{dist.get(path, '')}\t{half.get(source, '')}")
PY
