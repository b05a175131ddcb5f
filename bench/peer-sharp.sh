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
#    same (and the distances of its outputs, once measured); CACHET_PEER_FRESH=1 runs it again.
#    CACHET_PEER_TSV=FILE also writes every measured pair (bench/rate-fit.py reads several).
#    CACHET_PEER_CONFIG=FILE builds cachet with that
#    TOML on top of the default preset (to measure a setting before it becomes the default).
# 4. Measures the Butteraugli 3-norm distance of every AVIF, WebP, JPEG and PNG output of both
#    tools whose width is at most MAX_DISTANCE_WIDTH with build/cachet-distance (same decoder,
#    same reference for both), and prints, per format, for the tuning half, the checking half
#    (bench/halves.py) and all images: bytes and mean distance over the (source, width) pairs
#    both tools shipped, then image by image: how many images cachet made smaller at a mean
#    distance no worse than sharp's, the median byte ratio, and the worst image's distance.
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
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHET_AOM_PREFIX="$(bash tools/build-aom.sh)" -DCACHET_JPEGLI_PREFIX="$(bash tools/build-jpegli.sh)" >/dev/null
  cmake --build build --target cachet cachet-distance >/dev/null
fi

# CACHET_PEER_WIDTHS=320,480: other widths for sharp (give cachet the same in CACHET_PEER_CONFIG).
WIDTHS=${CACHET_PEER_WIDTHS:-$(/usr/bin/python3 -c 'import tomllib; print(",".join(map(str, tomllib.load(open("presets/default.toml", "rb"))["images"]["widths"])))')}
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
  ./build/cachet build "$SRC" -o "$WORK/cachet" -j "$JOBS" --no-cache --json --quiet \
  ${CACHET_PEER_CONFIG:+--config "$CACHET_PEER_CONFIG"} > "$WORK/cachet.json" || true
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

# Pairs for the distance tool: every output of both tools up to MAXW wide but GIFs (AVIF,
# WebP and the JPEG or PNG fallback; cachet's copies at the source's own name are the same
# bytes as a fingerprinted output, and left out).
/usr/bin/python3 - "$WORK" "$MAXW" "$SRC" > "$WORK/pairs" <<'PY'
import json, sys
work, maxw, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = json.load(open(f"{work}/cachet/cachet-manifest.json"))
for source, a in m["assets"].items():
    for o in a["outputs"]:
        if o.get("format") in ("avif", "webp", "jpeg", "png") and o["width"] <= maxw and not o.get("original"):
            print(f"{src}/{source}\t{work}/cachet/{o['path']}")
for r in json.load(open(f"{work}/sharp/sharp-manifest.json")):
    if r["format"] in ("avif", "webp", "jpeg", "png") and r["width"] <= maxw:
        print(f"{r['source']}\t{work}/sharp/{r['path']}")
PY
# sharp's distances are measured once per run of sharp and kept beside it.
SHARP_DIST=$SHARP_RUN/distances-$MAXW
if [ -f "$SHARP_DIST" ]; then
  grep -v -F "	$WORK/sharp/" "$WORK/pairs" > "$WORK/pairs-todo" || true
else
  cp "$WORK/pairs" "$WORK/pairs-todo"
fi
echo "measuring Butteraugli on $(wc -l < "$WORK/pairs-todo") outputs..." >&2
./build/cachet-distance "$JOBS" < "$WORK/pairs-todo" > "$WORK/distances"
if [ -f "$SHARP_DIST" ]; then
  sed "s|^|$WORK/sharp/|" "$SHARP_DIST" >> "$WORK/distances"
else
  grep -F "$WORK/sharp/" "$WORK/distances" | sed "s|^$WORK/sharp/||" > "$SHARP_DIST.tmp" && mv "$SHARP_DIST.tmp" "$SHARP_DIST"
fi
sed "s|^|$SRC/|" "$WORK/images" | /usr/bin/python3 bench/halves.py > "$WORK/halves"

/usr/bin/python3 - "$WORK" "$MAXW" "$SRC" <<'PY'
import json, os, statistics, sys
work, maxw, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dist = {}
for line in open(f"{work}/distances"):
    p, d = line.rstrip("\n").split("\t")
    dist[p] = float(d)
half = dict(reversed(line.rstrip("\n").split("\t")) for line in open(f"{work}/halves"))
def times(tool):
    wall, user, sysc, rss = open(f"{work}/{tool}.time").read().split()
    return float(wall), float(user) + float(sysc), int(rss) / 1024
rows = {"cachet": {}, "sharp": {}}
quality = {}
m = json.load(open(f"{work}/cachet/cachet-manifest.json"))
for source, a in m["assets"].items():
    for o in a["outputs"]:
        if not o.get("original"):
            rows["cachet"][(f"{src}/{source}", o["width"], o["format"])] = (o["bytes"], dist.get(f"{work}/cachet/{o['path']}"))
            quality[(f"{src}/{source}", o["width"], o["format"])] = (o.get("quality", ""), o.get("height", ""))
for r in json.load(open(f"{work}/sharp/sharp-manifest.json")):
    rows["sharp"][(r["source"], r["width"], r["format"])] = (r["bytes"], dist.get(f"{work}/sharp/{r['path']}"))
summary = json.load(open(f"{work}/cachet.json"))
print(f"cachet: {summary['assets']} images, {summary['failed']} failed")
for tool in ("cachet", "sharp"):
    wall, cpu, rss = times(tool)
    print(f"{tool:7s} wall {wall:7.1f} s  CPU {cpu:7.1f} s  peak RSS {rss:6.0f} MiB")
mib = lambda b: f"{b / 1048576:7.2f} MiB"
mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")
# Per format and half: bytes and distances over the (source, width) pairs both tools shipped
# and were measured ("all w": the bytes of every width both shipped, measured or not),
# then image by image (each image's pairs summed): how many images cachet made smaller at no
# worse a mean distance, the median byte ratio, and the worst image's mean distance.
print(f"pairs both tools shipped, distances measured up to {maxw} px wide (mean Butteraugli 3-norm):")
print(f"  {'half':6s} {'format':6s} {'pairs':>5s} {'cachet':>11s} {'sharp':>11s} {'bytes':>7s} {'dist c':>7s} {'dist s':>7s}"
      f" {'images':>6s} {'better':>6s} {'median':>7s} {'worst c':>7s} {'worst s':>7s} {'all w':>7s}")
for h in ("tune", "check", "all"):
    for fmt in ("avif", "webp", "jpeg", "png"):
        every = [k for k in rows["cachet"] if k[2] == fmt and k in rows["sharp"] and (h == "all" or half.get(k[0]) == h)]
        # Bytes and distances over the pairs whose distance was measured on both sides (up to
        # MAX_DISTANCE_WIDTH): a rule is not credited with bytes at widths nobody measured.
        keys = [k for k in every if rows["cachet"][k][1] is not None and rows["sharp"][k][1] is not None]
        if not keys:
            continue
        wider = sum(rows["cachet"][k][0] for k in every) / sum(rows["sharp"][k][0] for k in every) - 1
        c = [rows["cachet"][k] for k in keys]
        s = [rows["sharp"][k] for k in keys]
        cb, sb = sum(b for b, _ in c), sum(b for b, _ in s)
        per = {}
        for k in keys:
            cd, sd = rows["cachet"][k][1], rows["sharp"][k][1]
            e = per.setdefault(k[0], [0, 0, [], []])
            e[0] += rows["cachet"][k][0]
            e[1] += rows["sharp"][k][0]
            if cd is not None and sd is not None:
                e[2].append(cd)
                e[3].append(sd)
        images = [(e[0] / e[1], mean(e[2]), mean(e[3])) for e in per.values() if e[2]]
        better = sum(1 for r, cd, sd in images if r < 1 and cd <= sd)
        print(f"  {h:6s} {fmt:6s} {len(keys):5d} {mib(cb)} {mib(sb)} {100 * (cb / sb - 1):+6.1f}%"
              f" {mean([d for _, d in c if d is not None]):7.3f} {mean([d for _, d in s if d is not None]):7.3f}"
              f" {len(images):6d} {better:6d} {statistics.median(r for r, _, _ in images) if images else float('nan'):7.3f}"
              f" {max((cd for _, cd, _ in images), default=float('nan')):7.3f} {max((sd for _, _, sd in images), default=float('nan')):7.3f}"
              f" {100 * wider:+6.1f}%")
# CACHET_PEER_TSV=FILE: every measured pair of both tools, for designing a rate control from
# several runs (tool, source, width, format, bytes, distance, half, then cachet's quality as
# recorded and height).
if os.environ.get("CACHET_PEER_TSV"):
    with open(os.environ["CACHET_PEER_TSV"], "w") as out:
        for tool in ("cachet", "sharp"):
            for (source, width, fmt), (b, d) in sorted(rows[tool].items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
                if d is not None:
                    q, height = quality.get((source, width, fmt), ("", "")) if tool == "cachet" else ("", "")
                    out.write(f"{tool}\t{source}\t{width}\t{fmt}\t{b}\t{d}\t{half.get(source, '')}\t{q}\t{height}\n")
for fmt in ("jpeg", "png", "gif"):
    for tool in ("cachet", "sharp"):
        sel = [b for k, (b, d) in rows[tool].items() if k[2] == fmt]
        if sel:
            print(f"  all outputs, {tool:7s} {fmt:5s} {len(sel):4d} files {mib(sum(sel))}")
PY
