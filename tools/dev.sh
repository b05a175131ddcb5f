#!/usr/bin/env bash
# tools/dev.sh - the two quick-start commands (see README.md), also used by CI.
#
#   bash tools/dev.sh demo   install what is missing, build, run cachet on fixtures/site
#   bash tools/dev.sh test   install what is missing, build, run the whole test suite (CTest)
#
# Works as root on a fresh Debian 12 machine: every dependency is a Debian package.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build pkg-config                  # toolchain
  libvips-dev libwebp-dev libavif-dev liblcms2-dev  # images (libavif brings aom, rav1e, svt-av1)
  libimagequant-dev                                 # PNG palettes (libvips quantizes with it; cachet names its version)
  libexif-dev                                       # EXIF fields kept by images.keep_metadata
  libjxl-dev                                        # Butteraugli, for quality = "auto"
  libjpeg-dev                                       # libjpeg-turbo: libvips' JPEG codec; tests decode jpegli's JPEGs with it
  libzstd-dev libbrotli-dev libdeflate-dev          # sidecar compression
  libxxhash-dev                                     # checksums of the build index (XXH3)
  libmimalloc-dev                                   # the executable's malloc (small allocations: the index)
  libssl-dev zlib1g-dev                             # SHA-256 / SHA-384 digests; zlib for tests
  libcurl4-openssl-dev                              # the remote cache (Bazel HTTP cache, S3)
  esbuild                                           # text.minify: scripts and stylesheets (a Go binary)
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev catch2
  libvips-tools python3 python3-jsonschema          # tests and benchmarks
)

# What the tests add: the real servers, uploader and browser cachet's exports are checked
# against (tests/integration), each started by its test on 127.0.0.1.
TEST_PACKAGES=(
  nginx libnginx-mod-http-brotli-static caddy awscli chromium
  clang-format clang-tidy                           # style checks (tools/check-style.sh)
  clang libclang-rt-14-dev                          # sanitizer build and libFuzzer (tools/harden.sh)
)

install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# Node.js and npm (Debian's, unless a Node.js with its own npm is there already), then the
# npm packages the integration tests drive (s3rver, playwright-core) into build/integration.
install_node_packages() {
  local need=()
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  if [ ${#need[@]} -gt 0 ]; then
    echo "== installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
  fi
  local dir=build/integration
  mkdir -p "$dir"
  if [ ! -d "$dir/node_modules" ] || ! cmp -s tests/integration/package-lock.json "$dir/package-lock.json"; then
    cp tests/integration/package.json tests/integration/package-lock.json "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
}

build() {
  # libaom 3.14 and jpegli from Debian's source packages, built once into ~/.cache (see the
  # scripts).
  local aom_prefix jpegli_prefix
  aom_prefix="$(bash tools/build-aom.sh)"
  jpegli_prefix="$(bash tools/build-jpegli.sh)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHET_WARNINGS_AS_ERRORS=ON \
    -DCACHET_AOM_PREFIX="$aom_prefix" -DCACHET_JPEGLI_PREFIX="$jpegli_prefix"
  cmake --build build
}

case "${1:-}" in
  demo)
    install_missing "${PACKAGES[@]}"
    build
    rm -rf out/site
    ./build/cachet build fixtures/site -o out/site
    ;;
  test)
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    build
    install_node_packages
    ctest --test-dir build --output-on-failure -j "$(nproc)"
    bash tools/harden.sh 20   # cachet under ASan+UBSan through the end-to-end tests; fuzzing
    ;;
  *)
    echo "usage: bash tools/dev.sh demo|test" >&2
    exit 2
    ;;
esac
