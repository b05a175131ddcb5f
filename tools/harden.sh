#!/usr/bin/env bash
# tools/harden.sh - the hardening run of CI (issue 18): cachet built by clang under
# AddressSanitizer and UndefinedBehaviorSanitizer (float-cast-overflow too), the end-to-end and
# hostile-input tests run against that binary, and each libFuzzer target of tests/fuzz run for
# a bounded time from its committed seeds (tests/fuzz/corpus) and the fixtures' files. Run by
# tools/dev.sh test after the main suite.
#
#   bash tools/harden.sh [SECONDS_PER_FUZZ_TARGET]    (default 20)
#
# Needs the main build (build/, for the test binary) and clang with libclang-rt (dev.sh installs
# them). Exit 1 on any sanitizer report, fuzzer crash or failing test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
targets=(css html js sourcemap webmanifest srcset config manifest glob action_result png esbuild_packet)

aom_prefix="$(bash tools/build-aom.sh)"
jpegli_prefix="$(bash tools/build-jpegli.sh)"
# -O1 and line tables only: the sanitizers' advice, and half the compile time of -O2 -g.
CC=clang CXX=clang++ cmake -S . -B build-harden -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DCACHET_FUZZ=ON -DCACHET_WARNINGS_AS_ERRORS=ON \
  -DCACHET_AOM_PREFIX="$aom_prefix" -DCACHET_JPEGLI_PREFIX="$jpegli_prefix" >/dev/null
cmake --build build-harden --target cachet cachet-images $(printf 'fuzz_%s ' "${targets[@]}")

# libvips and GLib keep what they allocate for the life of the process: no leak checking for
# cachet itself (the fuzz targets, which do not load them, do check for leaks).
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== the end-to-end and hostile-input tests against cachet under ASan+UBSan"
# (Not the tests that assert peak RSS: AddressSanitizer's shadow memory and quarantine add to it.)
CACHET_TEST_BINARY="$PWD/build-harden/cachet" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  ./build/tests/pipeline_tests "[e2e]~[rss],[hostile]~[rss],[retention]~[rss],[watch]~[rss]" --order rand --rng-seed 1

echo "== fuzzing, ${seconds} s a target"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Seeds: the committed ones (tests/fuzz/corpus/<target>), and the fixtures' own files of that kind.
declare -A fixture_seeds=(
  [css]="fixtures/site/css/site.css fixtures/refs/css/main.css fixtures/refs/css/base.css"
  [html]="fixtures/site/index.html fixtures/site/about.html fixtures/refs/index.html fixtures/refs/blog/post.html"
  [js]="fixtures/site/js/app.js fixtures/refs/js/app.js"
  [sourcemap]="fixtures/site/js/app.js.map fixtures/refs/js/app.js.map"
  [webmanifest]="fixtures/site/site.webmanifest fixtures/refs/site.webmanifest"
  [config]="presets/default.toml presets/fast.toml presets/high-quality.toml"
  [png]="fixtures/images/palette-trns.png fixtures/images/grey-alpha.png fixtures/images/upright.png fixtures/site/img/logo.png"
)
total=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "$work/seeds-$t"
  cp tests/fuzz/corpus/"$t"/* "$work/seeds-$t/"
  for f in ${fixture_seeds[$t]:-}; do cp "$f" "$work/seeds-$t/"; done
  log="$work/$t.log"
  if ! ASAN_OPTIONS=detect_leaks=1 "build-harden/tests/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/$t-" \
      "$work/$t" "$work/seeds-$t" >"$log" 2>&1; then
    tail -40 "$log"
    for crash in "$work/$t"-*; do
      [ -e "$crash" ] && echo "crash input: $crash ($(head -c 200 "$crash" | od -c | head -5))"
    done
    echo "fuzz_$t failed" >&2
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  total=$((total + runs))
  echo "fuzz_$t: $runs runs, no crash"
done
echo "== fuzzing: $total runs over ${#targets[@]} targets, no crash, no sanitizer report"
