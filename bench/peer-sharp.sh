#!/usr/bin/env bash
# bench/peer-sharp.sh - cachet against sharp, side by side, on the realistic corpus.
#
#   bash bench/peer-sharp.sh [JOBS] [MAX_DISTANCE_WIDTH]    (defaults: nproc, 2048)
#
# 1. Installs sharp (npm, version below) into ~/.cache/cachet-bench/sharp unless present;
#    nothing is committed. Builds the corpus with ../shared/corpus/make-corpus.sh if missing.
# 2. Links the corpus' images (only images: both tools then do the same work) into one tree.
# 3. Times `cachet build` (default preset, -j JOBS) and bench/sharp-peer.mjs (sharp's default
#    settings, the same widths, AVIF + WebP + fallback, JOBS images at a time) one after the
#    other under /usr/bin/time: wall, CPU, peak RSS. sharp's run (12 minutes here) is kept in
#    ~/.cache/cachet-bench and reused while sharp's version, the widths and JOBS stay the
#    same; CACHET_PEER_FRESH=1 runs it again.
# 4. Measures the Butteraugli 3-norm distance of every AVIF and WebP output of both tools
#    whose width is at most MAX_DISTANCE_WIDTH with build/cachet-distance (same decoder,
#    same reference for both), and prints bytes and mean distance per format: over all
#    outputs, and over the (source, width) pairs both tools shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
MAXW=${2:-2048}
SHARP_VERSION=0.35.5
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
SHARP_DIR=${CACHET_SHARP_DIR:-$HOME/.cache/cachet-bench/sharp}

command -v /usr/bin/time >/dev/null || apt-get install -y -q --no-install-recommends time >/dev/null
command -v node >/dev/null || { echo "peer-sharp: needs Node.js >= 20.9 and npm" >&2; exit 2; }
if ! node -e "process.exit(require('$SHARP_DIR/node_modules/sharp/package.json').version === '$SHARP_VERSION' ? 0 : 1)" 2>/dev/null; then
  mkdir -p "$SHARP_DIR"
  [ -f "$SHARP_DIR/package.json" ] || echo '{"private": true}' > "$SHARP_DIR/package.json"
  (cd "$SHARP_DIR" && npm install --no-audit --no-fund --silent "sharp@$SHARP_VERSION")
fi
[ -d "$CORPUS/site" ] || bash ../shared/corpus/make-corpus.sh "$CORPUS" >&2
if [ ! -x build/cachet ] || [ ! -x build/cachet-distance ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHET_AOM_PREFIX="$(bash tools/build-aom.sh)" >/dev/null
  cmake --build build --target cachet cachet-distance >/dev/null
fi

WIDTHS=$(/usr/bin/python3 -c 'import tomllib; print(",".join(map(str, tomllib.load(open("presets/default.toml", "rb"))["images"]["widths"])))')
WORK=$(mktemp -d /tmp/cachet-peer-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# The images only, linked into one tree that both tools read (kept, so sharp's cached run
# stays valid).
SRC=$HOME/.cache/cachet-bench/peer-src
(cd "$CORPUS/site" && find . -type f | grep -iE '\.(jpe?g|jpe|jfif|png|gif|webp|avif|tiff?)$' | sed 's|^\./||' | LC_ALL=C sort) > "$WORK/images"
while IFS= read -r f; do
  [ -e "$SRC/$f" ] && continue
  mkdir -p "$SRC/$(dirname "$f")"
  ln "$CORPUS/site/$f" "$SRC/$f" 2>/dev/null || cp "$CORPUS/site/$f" "$SRC/$f"
done < "$WORK/images"
sed "s|^|$SRC/|" "$WORK/images" > "$WORK/sources"
SHARP_RUN=$HOME/.cache/cachet-bench/sharp-run-$SHARP_VERSION-j$JOBS-$(echo "$WIDTHS" | tr , -)

echo "images: $(wc -l < "$WORK/images"), widths $WIDTHS, -j $JOBS; sharp $SHARP_VERSION: $(node -e "console.log(JSON.stringify(require('$SHARP_DIR/node_modules/sharp').versions))")" >&2
/usr/bin/time -f '%e %U %S %M' -o "$WORK/cachet.time" \
  ./build/cachet build "$SRC" -o "$WORK/cachet" -j "$JOBS" --no-cache --json --quiet > "$WORK/cachet.json" || true
if [ "${CACHET_PEER_FRESH:-0}" = 1 ] || [ ! -f "$SHARP_RUN/sharp.time" ]; then
  rm -rf "$SHARP_RUN"
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/sharp.time" \
    node bench/sharp-peer.mjs "$SHARP_DIR" "$WORK/sources" "$SHARP_RUN" "$JOBS" "$WIDTHS"
  mv "$WORK/sharp.time" "$SHARP_RUN/sharp.time"
else
  echo "reusing sharp's run from $SHARP_RUN" >&2
fi
ln -s "$SHARP_RUN" "$WORK/sharp"
cp "$SHARP_RUN/sharp.time" "$WORK/sharp.time"

# Pairs for the distance tool: AVIF and WebP outputs of both tools up to MAXW wide.
/usr/bin/python3 - "$WORK" "$MAXW" "$SRC" > "$WORK/pairs" <<'PY'
import json, sys
work, maxw, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = json.load(open(f"{work}/cachet/cachet-manifest.json"))
for source, a in m["assets"].items():
    for o in a["outputs"]:
        if o.get("format") in ("avif", "webp") and o["width"] <= maxw:
            print(f"{src}/{source}\t{work}/cachet/{o['path']}")
for r in json.load(open(f"{work}/sharp/sharp-manifest.json")):
    if r["format"] in ("avif", "webp") and r["width"] <= maxw:
        print(f"{r['source']}\t{work}/sharp/{r['path']}")
PY
echo "measuring Butteraugli on $(wc -l < "$WORK/pairs") outputs..." >&2
./build/cachet-distance "$JOBS" < "$WORK/pairs" > "$WORK/distances"

/usr/bin/python3 - "$WORK" "$MAXW" "$SRC" <<'PY'
import json, sys
work, maxw, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dist = {}
for line in open(f"{work}/distances"):
    p, d = line.rstrip("\n").split("\t")
    dist[p] = float(d)
def times(tool):
    wall, user, sysc, rss = open(f"{work}/{tool}.time").read().split()
    return float(wall), float(user) + float(sysc), int(rss) / 1024
rows = {"cachet": {}, "sharp": {}}
m = json.load(open(f"{work}/cachet/cachet-manifest.json"))
for source, a in m["assets"].items():
    for o in a["outputs"]:
        rows["cachet"][(f"{src}/{source}", o["width"], o["format"])] = (o["bytes"], dist.get(f"{work}/cachet/{o['path']}"))
for r in json.load(open(f"{work}/sharp/sharp-manifest.json")):
    rows["sharp"][(r["source"], r["width"], r["format"])] = (r["bytes"], dist.get(f"{work}/sharp/{r['path']}"))
summary = json.load(open(f"{work}/cachet.json"))
print(f"cachet: {summary['assets']} images, {summary['failed']} failed")
for tool in ("cachet", "sharp"):
    wall, cpu, rss = times(tool)
    print(f"{tool:7s} wall {wall:7.1f} s  CPU {cpu:7.1f} s  peak RSS {rss:6.0f} MiB")
mib = lambda b: f"{b / 1048576:7.2f} MiB"
def line(label, keys, tool, fmt):
    sel = [rows[tool][k] for k in keys if k[2] == fmt]
    ds = [d for b, d in sel if d is not None]
    mean = sum(ds) / len(ds) if ds else float("nan")
    return f"  {label:22s} {tool:7s} {fmt:5s} {len(sel):4d} files {mib(sum(b for b, d in sel))}  mean 3-norm {mean:.3f} ({len(ds)} measured, width <= {maxw})"
for fmt in ("avif", "webp"):
    for tool in ("cachet", "sharp"):
        print(line("all outputs", rows[tool].keys(), tool, fmt))
    both = [k for k in rows["cachet"] if k in rows["sharp"]]
    for tool in ("cachet", "sharp"):
        print(line("pairs both shipped", both, tool, fmt))
for fmt in ("jpeg", "png", "gif"):
    for tool in ("cachet", "sharp"):
        sel = [b for k, (b, d) in rows[tool].items() if k[2] == fmt]
        if sel:
            print(f"  {'fallback':22s} {tool:7s} {fmt:5s} {len(sel):4d} files {mib(sum(sel))}")
PY
