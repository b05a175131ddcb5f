#!/usr/bin/env bash
# bench/curve.sh - the measured curves behind cachet's AVIF and WebP encoder settings, with
# sharp's default settings measured the same way beside them.
#
#   bash bench/curve.sh [WIDTH] [JOBS] > bench/curve-WIDTH.tsv
#
# The corpus' still images are first scaled to WIDTH (default 1080; smaller ones kept) as
# lossless PNG, so every point encodes the same pixels once. Then, for each encoder setting
# (CACHET_CURVE_POINTS, ';'-separated: "avif CODEC SPEED CHROMA [KEY=VALUE,...]" with optional
# AV1 encoder options (images.avif.aom_options), "webp EFFORT SHARP_YUV", or "jpeg jpegli
# CHROMA" and "jpeg libjpeg") and each quality (CACHET_CURVE_QUALITIES; for jpegli the
# distances CACHET_CURVE_DISTANCES, for libjpeg CACHET_CURVE_JPEG_QUALITIES), cachet builds
# them in that one format (no fallback, so nothing is dropped; JPEG is the fallback of the
# photos, and only of them), timed, and build/cachet-distance measures every output's
# Butteraugli 3-norm distance to its source. Last, bench/sharp-peer.mjs encodes the same
# sources with sharp's defaults (installed by bench/peer-sharp.sh). Three TSV rows per point,
# for all images, the tuning half and the checking half (bench/halves.py): tool, format,
# setting, quality, half, files, bytes, mean 3-norm, wall s, CPU s.
set -euo pipefail
cd "$(dirname "$0")/.."
WIDTH=${1:-1080}
JOBS=${2:-$(nproc)}
BUILD=${CACHET_BUILD_DIR:-build}
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
SHARP_DIR=${CACHET_SHARP_DIR:-$HOME/.cache/cachet-bench/sharp}
POINTS=${CACHET_CURVE_POINTS:-"avif aom 6 420;avif aom 6 444;avif aom 4 444;avif aom 8 444;avif svt 8 420;avif rav1e 8 444;webp 4 true;webp 4 false;webp 6 true"}
QUALITIES=${CACHET_CURVE_QUALITIES:-"50 60 70 80"}
DISTANCES=${CACHET_CURVE_DISTANCES:-"1.0 1.5 1.8 2.0 2.5 3.0"}
JPEG_QUALITIES=${CACHET_CURVE_JPEG_QUALITIES:-"70 75 80 85 90"}
[ -d "$CORPUS/site" ] || bash ../shared/corpus/make-corpus.sh "$CORPUS" >&2
[ -x "$BUILD"/cachet-distance ] || cmake --build "$BUILD" --target cachet cachet-distance >/dev/null

WORK=$(mktemp -d /tmp/cachet-curve-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
(cd "$CORPUS/site" && find . -type f | grep -iE '\.(jpe?g|png|webp|tiff?)$' | sed 's|^\./||' | LC_ALL=C sort) > "$WORK/images"
while IFS= read -r f; do
  mkdir -p "$WORK/src/$(dirname "$f")"
  # Lossless TIFF: cachet takes a TIFF for a photo (a PNG for a graphic), as it did the source.
  case "$f" in
    *.png|*.PNG) vips thumbnail "$CORPUS/site/$f" "$WORK/src/$f.png" "$WIDTH" --height 100000 --size down 2>/dev/null ;;
    *) vips thumbnail "$CORPUS/site/$f" "$WORK/src/$f.tif[compression=deflate]" "$WIDTH" --height 100000 --size down 2>/dev/null ;;
  esac
done < "$WORK/images"
find "$WORK/src" -type f | LC_ALL=C sort > "$WORK/sources"
/usr/bin/python3 bench/halves.py < "$WORK/images" | sed 's|\t|\t'"$WORK/src/"'|' > "$WORK/halves"

# measure: prints "half files bytes mean-3-norm" for all, tune and check, for the (source,
# output) pairs in $WORK/pairs.
measure() {
  "$BUILD"/cachet-distance "$JOBS" < "$WORK/pairs" > "$WORK/d"
  /usr/bin/python3 - "$WORK/d" "$WORK/pairs" "$WORK/halves" <<'PY'
import os, sys
source = dict(reversed(l.rstrip("\n").split("\t")) for l in open(sys.argv[2]))
half = {}
for l in open(sys.argv[3]):
    h, p = l.rstrip("\n").split("\t")
    half[p] = h
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
for h in ("all", "tune", "check"):
    sel = [(p, d) for p, d in rows if h == "all" or half.get(os.path.splitext(source[p])[0]) == h]
    if sel:
        print(h, len(sel), sum(os.path.getsize(p) for p, _ in sel), f"{sum(float(d) for _, d in sel) / len(sel):.4f}")
PY
}

printf 'tool\tformat\tsetting\tquality\thalf\tfiles\tbytes\tmean_3norm\twall_s\tcpu_s\n'
IFS=';' read -ra points <<< "$POINTS"
for point in "${points[@]}"; do
  read -r format a b c d <<< "$point"
  levels=$QUALITIES
  [ "$format $a" = "jpeg jpegli" ] && levels=$DISTANCES
  [ "$format $a" = "jpeg libjpeg" ] && levels=$JPEG_QUALITIES
  for q in $levels; do
    formats="[\"$format\"]"
    fallback=false
    quality="quality = $q"
    if [ "$format" = jpeg ]; then
      formats="[]"
      fallback=true
      settings="encoder = \"$a\""
      label="$a"
      if [ "$a" = jpegli ]; then
        quality="distance = $q"
        settings="$settings
chroma = \"$b\""
        label="$a $b"
      fi
    elif [ "$format" = avif ]; then
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
    printf '[images]\nformats = %s\nfallback = %s\nwidths = []\n[images.%s]\n%s\n%s\n[output]\noriginals = false\n' \
      "$formats" "$fallback" "$format" "$quality" "$settings" > "$WORK/c.toml"
    rm -rf "$WORK/out"
    /usr/bin/time -f '%e %U %S' -o "$WORK/t" "$BUILD"/cachet build "$WORK/src" -o "$WORK/out" \
      --config "$WORK/c.toml" -j "$JOBS" --no-cache --quiet 2>/dev/null || true # failed images just drop out of "files"
    read -r wall user sys < <(tail -n 1 "$WORK/t") # "Command exited with non-zero status" comes first
    /usr/bin/python3 - "$WORK" "$format" > "$WORK/pairs" <<'PY'
import json, sys
work, fmt = sys.argv[1], sys.argv[2]
m = json.load(open(f"{work}/out/cachet-manifest.json"))
for source, a in m["assets"].items():
    for o in a["outputs"]:
        if o["format"] == fmt:
            print(f"{work}/src/{source}\t{work}/out/{o['path']}")
PY
    while read -r half files bytes mean; do
      printf 'cachet\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$format" "$label" "$q" "$half" "$files" "$bytes" "$mean" \
        "$wall" "$(awk "BEGIN { print $user + $sys }")"
    done < <(measure)
  done
done

if [ -d "$SHARP_DIR/node_modules/sharp" ]; then
  /usr/bin/time -f '%e %U %S' -o "$WORK/t" node bench/sharp-peer.mjs "$SHARP_DIR" "$WORK/sources" "$WORK/sharp" "$JOBS" ""
  read -r wall user sys < "$WORK/t"
  for format in avif webp jpeg; do
    /usr/bin/python3 - "$WORK" "$format" > "$WORK/pairs" <<'PY'
import json, sys
work, fmt = sys.argv[1], sys.argv[2]
for r in json.load(open(f"{work}/sharp/sharp-manifest.json")):
    if r["format"] == fmt:
        print(f"{r['source']}\t{work}/sharp/{r['path']}")
PY
    while read -r half files bytes mean; do
      printf 'sharp\t%s\tdefaults\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$format" "$([ $format = avif ] && echo 50 || echo 80)" \
        "$half" "$files" "$bytes" "$mean" "$wall" "$(awk "BEGIN { print $user + $sys }")"
    done < <(measure)
  done
fi
