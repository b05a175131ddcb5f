#!/usr/bin/env bash
# bench/curve.sh - the measured curves behind cachet's AVIF and WebP encoder settings, with
# sharp's default settings measured the same way beside them.
#
#   bash bench/curve.sh [WIDTH] [JOBS] > bench/curve-WIDTH.tsv
#
# The corpus' still images are first scaled to WIDTH (default 1080; smaller ones kept) as
# lossless PNG, so every point encodes the same pixels once. Then, for each encoder setting
# (CACHET_CURVE_POINTS, ';'-separated: "avif CODEC SPEED CHROMA [KEY=VALUE,...]" with optional
# AV1 encoder options (images.avif.aom_options), or "webp EFFORT SHARP_YUV")
# and each quality (CACHET_CURVE_QUALITIES), cachet builds them in that one format (no
# fallback, so nothing is dropped), timed, and build/cachet-distance measures every output's
# Butteraugli 3-norm distance to its PNG. Last, bench/sharp-peer.mjs encodes the same PNGs
# with sharp's defaults (installed by bench/peer-sharp.sh). One TSV row per point:
# tool, format, setting, quality, files, bytes, mean 3-norm, wall s, CPU s.
set -euo pipefail
cd "$(dirname "$0")/.."
WIDTH=${1:-1080}
JOBS=${2:-$(nproc)}
BUILD=${CACHET_BUILD_DIR:-build}
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
SHARP_DIR=${CACHET_SHARP_DIR:-$HOME/.cache/cachet-bench/sharp}
POINTS=${CACHET_CURVE_POINTS:-"avif aom 6 420;avif aom 6 444;avif aom 4 444;avif aom 8 444;avif svt 8 420;avif rav1e 8 444;webp 4 true;webp 4 false;webp 6 true"}
QUALITIES=${CACHET_CURVE_QUALITIES:-"50 60 70 80"}
[ -d "$CORPUS/site" ] || bash ../shared/corpus/make-corpus.sh "$CORPUS" >&2
[ -x "$BUILD"/cachet-distance ] || cmake --build "$BUILD" --target cachet cachet-distance >/dev/null

WORK=$(mktemp -d /tmp/cachet-curve-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
(cd "$CORPUS/site" && find . -type f | grep -iE '\.(jpe?g|png|webp|tiff?)$' | sed 's|^\./||' | LC_ALL=C sort) > "$WORK/images"
while IFS= read -r f; do
  mkdir -p "$WORK/src/$(dirname "$f")"
  vips thumbnail "$CORPUS/site/$f" "$WORK/src/$f.png" "$WIDTH" --height 100000 --size down 2>/dev/null
done < "$WORK/images"
find "$WORK/src" -name '*.png' | LC_ALL=C sort > "$WORK/sources"

# measure: prints "files bytes mean-3-norm" for the (source, output) pairs in $WORK/pairs.
measure() {
  "$BUILD"/cachet-distance "$JOBS" < "$WORK/pairs" > "$WORK/d"
  /usr/bin/python3 - "$WORK/d" <<'PY'
import os, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
print(len(rows), sum(os.path.getsize(p) for p, _ in rows), f"{sum(float(d) for _, d in rows) / len(rows):.4f}")
PY
}

printf 'tool\tformat\tsetting\tquality\tfiles\tbytes\tmean_3norm\twall_s\tcpu_s\n'
IFS=';' read -ra points <<< "$POINTS"
for point in "${points[@]}"; do
  read -r format a b c d <<< "$point"
  for q in $QUALITIES; do
    if [ "$format" = avif ]; then
      settings="codec = \"$a\"
speed = $b
chroma = \"$c\""
      label="$a speed $b $c"
      if [ -n "${d:-}" ]; then
        settings="$settings
aom_options = { $(echo "$d" | sed 's/\([^=,]*\)=\([^,]*\)/"\1" = "\2"/g') }"
        label="$label $d"
      fi
    else
      settings="effort = $a
sharp_yuv = $b"
      label="effort $a sharp_yuv $b"
    fi
    printf '[images]\nformats = ["%s"]\nfallback = false\nwidths = []\n[images.%s]\nquality = %s\n%s\n' \
      "$format" "$format" "$q" "$settings" > "$WORK/c.toml"
    rm -rf "$WORK/out"
    /usr/bin/time -f '%e %U %S' -o "$WORK/t" "$BUILD"/cachet build "$WORK/src" -o "$WORK/out" \
      --config "$WORK/c.toml" -j "$JOBS" --no-cache --quiet 2>/dev/null || true # failed images just drop out of "files"
    read -r wall user sys < <(tail -n 1 "$WORK/t") # "Command exited with non-zero status" comes first
    /usr/bin/python3 - "$WORK" > "$WORK/pairs" <<'PY'
import json, sys
work = sys.argv[1]
m = json.load(open(f"{work}/out/cachet-manifest.json"))
for source, a in m["assets"].items():
    print(f"{work}/src/{source}\t{work}/out/{a['outputs'][0]['path']}")
PY
    read -r files bytes mean <<< "$(measure)"
    printf 'cachet\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$format" "$label" "$q" "$files" "$bytes" "$mean" "$wall" \
      "$(awk "BEGIN { print $user + $sys }")"
  done
done

if [ -d "$SHARP_DIR/node_modules/sharp" ]; then
  /usr/bin/time -f '%e %U %S' -o "$WORK/t" node bench/sharp-peer.mjs "$SHARP_DIR" "$WORK/sources" "$WORK/sharp" "$JOBS" ""
  read -r wall user sys < "$WORK/t"
  for format in avif webp; do
    /usr/bin/python3 - "$WORK" "$format" > "$WORK/pairs" <<'PY'
import json, sys
work, fmt = sys.argv[1], sys.argv[2]
for r in json.load(open(f"{work}/sharp/sharp-manifest.json")):
    if r["format"] == fmt:
        print(f"{r['source']}\t{work}/sharp/{r['path']}")
PY
    read -r files bytes mean <<< "$(measure)"
    printf 'sharp\t%s\tdefaults\t%s\t%s\t%s\t%s\t%s\t%s\n' "$format" "$([ $format = avif ] && echo 50 || echo 80)" \
      "$files" "$bytes" "$mean" "$wall" "$(awk "BEGIN { print $user + $sys }")"
  done
fi
