#!/usr/bin/env bash
# bench/routes.sh - the encoder routes cachet does not use, measured against the ones it does
# (issue 21: libavif 1.4 with libaom 3.14, SVT-AV1 4.x's still-image mode, libwebp 1.5).
#
#   bash bench/routes.sh [JOBS]
#
# 1. Fetches from Debian only (tools/debian-source.sh: checked against the signed source
#    indexes) and builds, into $CACHET_DEPS_DIR/bench-routes (cached; never used by cachet):
#    libwebp 1.5.0 (bookworm-backports), libavif 1.4.2 with its avifenc (sid) against the libaom
#    of tools/build-aom.sh, and SVT-AV1 4.2.0 (sid) when the mirror serves it (it is reported
#    and skipped otherwise).
# 2. AVIF: the corpus' still images scaled to 1080 px (as bench/curve.sh does), encoded by
#    cachet (libavif 0.11) and by avifenc 1.4.2 with the same settings (speed 6, 4:4:4, full
#    range, tune=ssimulacra2, enable-cdef=1, deltaq-strength=38, quality $Q fixed), and by
#    SVT-AV1 if built; bytes and mean Butteraugli 3-norm (build/cachet-distance) of each route.
# 3. WebP: bench/curve.sh's "webp 5 true" point at qualities 70 80 90 with the system's
#    libwebp 1.2.4 and again with libwebp 1.5 loaded in its place (same soname, LD_LIBRARY_PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
Q=${CACHET_ROUTES_QUALITY:-56}
DEPS=${CACHET_DEPS_DIR:-$HOME/.cache/cachet-deps}/bench-routes
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
WEBP_VERSION=1.5.0-0.1~bpo12+1
AVIF_VERSION=1.4.2-1
SVT_VERSION=4.2.0+dfsg-3
AOM=$(bash tools/build-aom.sh)
[ -d "$CORPUS/site" ] || bash ../shared/corpus/make-corpus.sh "$CORPUS" >&2
[ -x build/cachet-distance ] || cmake --build build --target cachet cachet-distance >/dev/null
WORK=$(mktemp -d /tmp/cachet-routes-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
log() { echo "== routes: $*" >&2; }

DEBIAN_SOURCE_TAG=routes
. tools/debian-source.sh
mkdir -p "$DEPS"
if [ ! -f "$DEPS/webp/.complete" ] || [ ! -f "$DEPS/avif/.complete" ] || [ ! -f "$DEPS/svt.tried" ]; then
  debian_build_deps cmake ninja-build g++ yasm libpng-dev libjpeg-dev libyuv-dev
  debian_sources_init "$WORK" "bookworm-backports sid"
fi
if [ ! -f "$DEPS/webp/.complete" ]; then
  log "libwebp $WEBP_VERSION"
  debian_fetch libwebp "$WEBP_VERSION" "$WORK/dl-webp" orig
  debian_unpack "$(ls "$WORK"/dl-webp/libwebp_*.orig.tar.gz)" "$WORK/webp"
  cmake -S "$WORK/webp" -B "$WORK/webp-build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_INSTALL_PREFIX="$DEPS/webp" -DCMAKE_INSTALL_LIBDIR=lib -DWEBP_BUILD_ANIM_UTILS=OFF \
    -DWEBP_BUILD_GIF2WEBP=OFF -DWEBP_BUILD_IMG2WEBP=OFF -DWEBP_BUILD_VWEBP=OFF -DWEBP_BUILD_WEBPINFO=OFF \
    -DWEBP_BUILD_EXTRAS=OFF >&2
  cmake --build "$WORK/webp-build" >&2 && cmake --install "$WORK/webp-build" >&2
  touch "$DEPS/webp/.complete"
fi
if [ ! -f "$DEPS/svt.tried" ]; then
  log "SVT-AV1 $SVT_VERSION"
  if debian_fetch svt-av1 "$SVT_VERSION" "$WORK/dl-svt" orig; then
    debian_unpack "$(ls "$WORK"/dl-svt/svt-av1_*.orig.tar.*)" "$WORK/svt"
    cmake -S "$WORK/svt" -B "$WORK/svt-build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
      -DBUILD_APPS=OFF -DBUILD_DEC=OFF -DCMAKE_INSTALL_PREFIX="$DEPS/svt" -DCMAKE_INSTALL_LIBDIR=lib >&2
    cmake --build "$WORK/svt-build" >&2 && cmake --install "$WORK/svt-build" >&2
  else
    log "SVT-AV1 $SVT_VERSION: the Debian mirror does not serve it; that route is not measured"
  fi
  touch "$DEPS/svt.tried"
fi
SVT=OFF
[ -d "$DEPS/svt/lib" ] && SVT=SYSTEM
if [ ! -f "$DEPS/avif/.complete" ]; then
  log "libavif $AVIF_VERSION (SVT-AV1: $SVT)"
  debian_fetch libavif "$AVIF_VERSION" "$WORK/dl-avif"
  debian_unpack "$(ls "$WORK"/dl-avif/libavif_*.orig.tar.gz)" "$WORK/avif"
  debian_unpack "$(ls "$WORK"/dl-avif/libavif_*.orig-libargparse.tar.gz)" "$WORK/avif/ext/libargparse"
  PKG_CONFIG_PATH="$AOM/lib/pkgconfig:$DEPS/webp/lib/pkgconfig:$DEPS/svt/lib/pkgconfig" \
    cmake -S "$WORK/avif" -B "$WORK/avif-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$DEPS/avif" -DCMAKE_INSTALL_LIBDIR=lib -DAVIF_CODEC_AOM=SYSTEM \
    -DAVIF_CODEC_SVT="$SVT" -DAVIF_CODEC_DAV1D=OFF -DAVIF_LIBYUV=SYSTEM -DAVIF_LIBSHARPYUV=SYSTEM \
    -DAVIF_BUILD_APPS=ON -DAVIF_JPEG=SYSTEM -DAVIF_ZLIBPNG=SYSTEM \
    -DCMAKE_INSTALL_RPATH="$AOM/lib;$DEPS/webp/lib;$DEPS/svt/lib;$DEPS/avif/lib" >&2
  cmake --build "$WORK/avif-build" >&2 && cmake --install "$WORK/avif-build" >&2
  touch "$DEPS/avif/.complete"
fi

# AVIF: the still images at 1080 px, as PNG.
(cd "$CORPUS/site" && find . -type f | grep -iE '\.(jpe?g|png)$' | sed 's|^\./||' | LC_ALL=C sort) > "$WORK/images"
mkdir -p "$WORK/src"
while IFS= read -r f; do
  vips thumbnail "$CORPUS/site/$f" "$WORK/src/$(echo "$f" | tr / _).png" 1080 --height 100000 --size down 2>/dev/null || true
done < "$WORK/images"
printf '[images]\nformats = ["avif"]\nfallback = false\nwidths = []\n[images.avif]\nquality = %s\nquality_step = 0\nmax_distance = 0\nalpha_quality = %s\n[output]\noriginals = false\n' \
  "$Q" "$Q" > "$WORK/c.toml"
build/cachet build "$WORK/src" -o "$WORK/cachet" --config "$WORK/c.toml" -j "$JOBS" --no-cache --quiet
mkdir -p "$WORK/avif14" "$WORK/svt"
for f in "$WORK"/src/*.png; do
  b=$(basename "$f" .png)
  "$DEPS/avif/bin/avifenc" -s 6 -y 444 -r full --cicp 1/13/6 -q "$Q" --qalpha "$Q" -a tune=ssimulacra2 \
    -a enable-cdef=1 -a deltaq-strength=38 -a row-mt=0 -j 1 "$f" "$WORK/avif14/$b.avif" >/dev/null
  # SVT-AV1 (its still-image mode is 4:2:0 only), with the settings libavif gives it.
  [ "$SVT" = OFF ] || "$DEPS/avif/bin/avifenc" -c svt -s 6 -y 420 -r full --cicp 1/13/6 -q "$Q" --qalpha "$Q" \
    -j 1 "$f" "$WORK/svt/$b.avif" >/dev/null
done
/usr/bin/python3 - "$WORK" > "$WORK/pairs" <<'PY'
import json, os, sys
work = sys.argv[1]
m = json.load(open(f"{work}/cachet/cachet-manifest.json"))
for source, a in m["assets"].items():
    b = os.path.splitext(source)[0]
    for o in a["outputs"]:
        print(f"{work}/src/{source}\tcachet\t{work}/cachet/{o['path']}")
    for route in ("avif14", "svt"):
        if os.path.exists(f"{work}/{route}/{b}.avif"):
            print(f"{work}/src/{source}\t{route}\t{work}/{route}/{b}.avif")
PY
cut -f1,3 "$WORK/pairs" | build/cachet-distance "$JOBS" > "$WORK/d"
/usr/bin/python3 - "$WORK" <<'PY'
import os, sys
work = sys.argv[1]
d = dict(l.rstrip("\n").split("\t") for l in open(f"{work}/d"))
routes = {}
for l in open(f"{work}/pairs"):
    source, route, out = l.rstrip("\n").split("\t")
    routes.setdefault(route, {})[source] = (os.path.getsize(out), float(d[out]))
names = {"cachet": "libavif 0.11 (cachet)", "avif14": "libavif 1.4.2 avifenc", "svt": "SVT-AV1 via avifenc"}
common = set.intersection(*(set(v) for v in routes.values()))
base = sum(routes["cachet"][s][0] for s in common)
print(f"AVIF at 1080 px, {len(common)} images, the same settings")
for route, v in routes.items():
    b = sum(v[s][0] for s in common)
    print(f"  {names[route]:24s} {b:10d} bytes ({100 * (b / base - 1):+6.1f}%)  mean {sum(v[s][1] for s in common) / len(common):.3f}")
PY

# WebP: the same curve point with each libwebp.
echo "WebP effort 5 sharp-YUV at 1080 px (bench/curve.sh):"
for lib in system "$DEPS/webp/lib"; do
  if [ "$lib" = system ]; then env=(); else env=(LD_LIBRARY_PATH="$lib"); fi
  env "${env[@]}" CACHET_SHARP_DIR=/nonexistent CACHET_CURVE_POINTS="webp 5 true" CACHET_CURVE_QUALITIES="70 80 90" \
    bash bench/curve.sh 1080 "$JOBS" | awk -F'\t' -v lib="$lib" '$5 == "all" { print "  " lib, "q" $4, $7, "bytes, mean", $8 }'
done
