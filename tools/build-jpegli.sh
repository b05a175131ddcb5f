#!/usr/bin/env bash
# tools/build-jpegli.sh - build jpegli (the JPEG encoder of libjxl) from Debian source packages
# into a private prefix, as a static library that cachet's image module links.
#
#   bash tools/build-jpegli.sh     prints the prefix (building it first if it is not cached)
#
# Why: jpegli makes JPEGs about 20% smaller than libjpeg-turbo at the same Butteraugli
# distance (docs/jpegli.md), and they decode with every JPEG decoder. Debian packages no
# jpegli; its source is in Debian's jpeg-xl source package (lib/jpegli), which needs the
# libjpeg-turbo source in third_party/libjpeg-turbo (for the libjpeg API headers, version 62
# as Debian 12's libjpeg62-turbo) and Highway >= 1.0.7 (Debian 12 has 1.0.3): both come from
# their Debian source packages too. Only the upstream tarballs are used (jpegli needs nothing
# of Debian's packaging, and this archive mirror does not serve jpeg-xl's debian.tar.xz).
#
# Determinism: Highway is compiled for one fixed target (HWY_COMPILE_ONLY_STATIC at the
# architecture's baseline: SSE2 on x86-64), not dispatched at run time. jpegli's output differs
# between SIMD targets (an AVX2 build and an SSE2 build give different bytes for the same
# image), and cachet's outputs must not depend on the machine. Measured: no slower here.
#
# Only Debian is contacted (tools/debian-source.sh); every tarball is checked against the
# signed source indexes. Cached in $CACHET_DEPS_DIR (default ~/.cache/cachet-deps), keyed by
# the versions and the build flags; a second run is a no-op.
set -euo pipefail

JPEGXL_VERSION="${CACHET_JPEGXL_DEBIAN_VERSION:-0.11.2-5.1}"
TURBO_VERSION="${CACHET_TURBO_DEBIAN_VERSION:-1:2.1.5-4}"
HWY_VERSION="${CACHET_HWY_DEBIAN_VERSION:-1.2.0-2}"
SUITES="${CACHET_JPEGLI_SUITES:-trixie forky sid}"
DEPS_DIR="${CACHET_DEPS_DIR:-$HOME/.cache/cachet-deps}"

CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DCMAKE_CXX_FLAGS=-DHWY_COMPILE_ONLY_STATIC=1
  -DJPEGXL_ENABLE_JPEGLI=ON -DJPEGXL_ENABLE_JPEGLI_LIBJPEG=OFF
  -DJPEGXL_ENABLE_TOOLS=OFF -DJPEGXL_ENABLE_BENCHMARK=OFF -DJPEGXL_ENABLE_EXAMPLES=OFF
  -DJPEGXL_ENABLE_MANPAGES=OFF -DJPEGXL_ENABLE_DOXYGEN=OFF -DJPEGXL_ENABLE_SJPEG=OFF
  -DJPEGXL_ENABLE_OPENEXR=OFF -DJPEGXL_ENABLE_PLUGINS=OFF -DJPEGXL_ENABLE_JNI=OFF
  -DJPEGXL_ENABLE_SKCMS=OFF -DJPEGXL_BUNDLE_LIBPNG=OFF
  -DJPEGXL_FORCE_SYSTEM_BROTLI=ON -DJPEGXL_FORCE_SYSTEM_LCMS2=ON
  -DHWY_ENABLE_TESTS=OFF -DHWY_ENABLE_CONTRIB=OFF -DHWY_ENABLE_EXAMPLES=OFF -DHWY_ENABLE_INSTALL=OFF
)

upstream() { local v="${1#*:}"; echo "${v%-*}"; }
key="$(printf '%s\n' "$(upstream "$JPEGXL_VERSION")" "$(upstream "$TURBO_VERSION")" "$(upstream "$HWY_VERSION")" \
  "$(uname -m)" "${CMAKE_FLAGS[@]}" | sha256sum | cut -c1-12)"
prefix="$DEPS_DIR/jpegli-$(upstream "$JPEGXL_VERSION")-$key"

if [ -f "$prefix/.complete" ]; then
  echo "$prefix"
  exit 0
fi

log() { echo "== build-jpegli: $*" >&2; }

DEBIAN_SOURCE_TAG=build-jpegli
. "$(dirname "$0")/debian-source.sh"
debian_build_deps cmake ninja-build g++ libbrotli-dev liblcms2-dev

work="$(mktemp -d "${TMPDIR:-/tmp}/cachet-jpegli.XXXXXX")"
trap 'rm -rf "$work"' EXIT

debian_sources_init "$work" "$SUITES"
JPEGXL_VERSION="$(debian_pick_version jpeg-xl "$JPEGXL_VERSION")"
TURBO_VERSION="$(debian_pick_version libjpeg-turbo "$TURBO_VERSION")"
HWY_VERSION="$(debian_pick_version highway "$HWY_VERSION")"
log "fetching jpeg-xl $JPEGXL_VERSION, libjpeg-turbo $TURBO_VERSION and highway $HWY_VERSION from Debian"
debian_fetch jpeg-xl "$JPEGXL_VERSION" "$work/dl" orig
debian_fetch libjpeg-turbo "$TURBO_VERSION" "$work/dl" orig
debian_fetch highway "$HWY_VERSION" "$work/dl" orig
src="$work/src"
debian_unpack "$(ls "$work"/dl/jpeg-xl_*.orig.tar.*)" "$src"
rm -rf "$src/third_party/libjpeg-turbo" "$src/third_party/highway"
debian_unpack "$(ls "$work"/dl/libjpeg-turbo_*.orig.tar.*)" "$src/third_party/libjpeg-turbo"
debian_unpack "$(ls "$work"/dl/highway_*.orig.tar.*)" "$src/third_party/highway"
for f in lib/jpegli/encode.h third_party/libjpeg-turbo/jconfig.h.in third_party/highway/CMakeLists.txt; do
  [ -f "$src/$f" ] || { log "unexpected source layout: no $f"; exit 1; }
done

log "building (about 20 seconds on 2 cores)"
cmake -S "$src" -B "$work/build" -G Ninja "${CMAKE_FLAGS[@]}" >&2
cmake --build "$work/build" --target jpegli-static hwy >&2

# The prefix: the two static libraries, jpegli's public headers at the paths they include each
# other by, and the libjpeg headers configured for them.
rm -rf "$prefix.partial"
mkdir -p "$prefix.partial/lib" "$prefix.partial/include/lib/jpegli" "$prefix.partial/include/lib/jxl/base"
cp "$work/build/lib/libjpegli-static.a" "$prefix.partial/lib/libjpegli.a"
cp "$work/build/third_party/highway/libhwy.a" "$prefix.partial/lib/libhwy.a"
cp "$src"/lib/jpegli/{encode.h,common.h,types.h} "$prefix.partial/include/lib/jpegli/"
cp "$src/lib/jxl/base/include_jpeglib.h" "$prefix.partial/include/lib/jxl/base/"
cp "$work"/build/lib/include/jpegli/{jconfig.h,jpeglib.h,jmorecfg.h} "$prefix.partial/include/"
for l in "$src/LICENSE" "$src/third_party/libjpeg-turbo/LICENSE.md" "$src/third_party/highway/LICENSE"; do
  cp "$l" "$prefix.partial/$(basename "$(dirname "$l")")-$(basename "$l")"
done
printf '%s\n' "jpeg-xl $JPEGXL_VERSION" "libjpeg-turbo $TURBO_VERSION" "highway $HWY_VERSION" \
  >"$prefix.partial/.complete"
rm -rf "$prefix"
mv "$prefix.partial" "$prefix"
log "installed in $prefix"
echo "$prefix"
