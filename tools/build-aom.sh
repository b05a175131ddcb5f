#!/usr/bin/env bash
# tools/build-aom.sh - build libaom from a Debian source package into a private prefix.
#
#   bash tools/build-aom.sh        prints the prefix (building it first if it is not cached)
#
# Why: Debian 12's libaom 3.6 makes AVIF about 40% bigger than libaom 3.14 with
# tune=ssimulacra2 at the same Butteraugli distance (docs/benchmarks.md); tune=ssimulacra2
# does not exist before libaom 3.13. Debian testing (forky) and unstable (sid) ship 3.14.1
# with the same soname (libaom.so.3), so Debian 12's own libavif 0.11 loads it unchanged when
# the cachet binary carries an rpath to the private prefix. The system's libaom is untouched.
#
# Only Debian is contacted (tools/debian-source.sh): the source package comes through apt with a private configuration
# that knows only the source indexes of $SUITES (the system's sources list is left alone), and
# the tarballs are checked against the SHA-256 sums of those signed indexes. The pinned
# upstream version is required; another Debian revision of it is accepted (with a note) when
# the pinned one has left the archive. The result is cached in $CACHET_DEPS_DIR (default
# ~/.cache/cachet-deps), keyed by the upstream version and the build flags; a second run is a
# no-op.
set -euo pipefail

AOM_VERSION="${CACHET_AOM_DEBIAN_VERSION:-3.14.1-1}"
SUITES="${CACHET_AOM_SUITES:-forky sid}"
DEPS_DIR="${CACHET_DEPS_DIR:-$HOME/.cache/cachet-deps}"

CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=ON
  -DENABLE_DOCS=OFF -DENABLE_EXAMPLES=OFF -DENABLE_TESTS=OFF -DENABLE_TOOLS=OFF
  -DENABLE_TESTDATA=OFF -DCONFIG_TUNE_BUTTERAUGLI=0 -DCONFIG_TUNE_VMAF=0
  -DCMAKE_INSTALL_LIBDIR=lib
)

UPSTREAM="${AOM_VERSION%-*}"
# The key covers everything that changes the built library.
key="$(printf '%s\n' "$UPSTREAM" "${CMAKE_FLAGS[@]}" | sha256sum | cut -c1-12)"
prefix="$DEPS_DIR/aom-$UPSTREAM-$key"

if [ -f "$prefix/.complete" ]; then
  echo "$prefix"
  exit 0
fi

log() { echo "== build-aom: $*" >&2; }

DEBIAN_SOURCE_TAG=build-aom
. "$(dirname "$0")/debian-source.sh"
debian_build_deps patch xz-utils cmake ninja-build yasm g++ libyuv-dev  # build-deps of Debian's aom

work="$(mktemp -d "${TMPDIR:-/tmp}/cachet-aom.XXXXXX")"
trap 'rm -rf "$work"' EXIT

debian_sources_init "$work" "$SUITES"
AOM_VERSION="$(debian_pick_version aom "$AOM_VERSION")"
log "fetching aom $AOM_VERSION source from Debian ($SUITES)"
debian_fetch aom "$AOM_VERSION" "$work/dl"
# Unpacked as dpkg-source would for a "3.0 (quilt)" package: upstream tarball, debian/, then
# the patches in series order.
debian_unpack "$(ls "$work"/dl/aom_*.orig.tar.*)" "$work/src"
[ -f "$work/src/CMakeLists.txt" ] || { log "unexpected source layout"; exit 1; }
tar -xJf "$work/dl/aom_$AOM_VERSION.debian.tar.xz" -C "$work/src"
debian_patch "$work/src"

log "building (about 4 minutes on 2 cores)"
cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_INSTALL_PREFIX="$prefix.partial" \
  "${CMAKE_FLAGS[@]}" >&2
cmake --build "$work/build" >&2
rm -rf "$prefix.partial"
cmake --install "$work/build" >&2

soname="$(readelf -d "$prefix.partial/lib/libaom.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')"
if [ "$soname" != "libaom.so.3" ]; then
  log "unexpected soname '$soname' (Debian 12's libavif needs libaom.so.3)"
  exit 1
fi
echo "$AOM_VERSION" >"$prefix.partial/.complete"
rm -rf "$prefix"
mv "$prefix.partial" "$prefix"
log "installed in $prefix"
echo "$prefix"
