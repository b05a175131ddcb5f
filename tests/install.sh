#!/usr/bin/env bash
# tests/install.sh CMAKE BUILD FIXTURES: cachet as a user installs it.
# 1. `cmake --install` into a prefix; the installed cachet, run through a symbolic link on PATH
#    from another folder, builds an image (its module found in <prefix>/lib/cachet, and the
#    private libaom beside it through the module's $ORIGIN rpath, not the build tree's).
# 2. The executable copied alone: `--version` still answers (exit 0) and says the module is
#    missing; an image build exits 72 naming both places it looked.
set -euo pipefail
cmake=$1 build=$(realpath "$2") fixtures=$(realpath "$3")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$tmp/prefix" >/dev/null
mkdir -p "$tmp/src" "$tmp/path" "$tmp/elsewhere" "$tmp/alone"
cp "$fixtures/site/img/hero.jpg" "$tmp/src/hero.jpg"
ln -s "$tmp/prefix/bin/cachet" "$tmp/path/cachet"
cd "$tmp/elsewhere"
PATH="$tmp/path:$PATH" LD_DEBUG=libs cachet build ../src -o ../out --no-cache -q 2>"$tmp/ld.log" ||
    fail "the installed cachet failed: $(grep -v '^ *[0-9]*:' "$tmp/ld.log" | tail -5)"
grep -q '"hero.jpg":{' ../out/cachet-manifest.json || fail "no manifest entry for hero.jpg"
grep -q "calling init: $tmp/prefix/lib/cachet/cachet-images.so" "$tmp/ld.log" ||
    fail "the module was not loaded from $tmp/prefix/lib/cachet"
if [ -e "$tmp/prefix/lib/cachet/libaom.so.3" ]; then
    grep -q "calling init: $tmp/prefix/lib/cachet/libaom.so.3" "$tmp/ld.log" ||
        fail "libaom was not loaded from $tmp/prefix/lib/cachet: $(grep 'init: .*libaom' "$tmp/ld.log")"
fi
echo "installed: built hero.jpg from another folder through a link on PATH"

cp "$tmp/prefix/bin/cachet" "$tmp/alone/cachet"
version=$("$tmp/alone/cachet" --version) || fail "--version failed without the module"
grep -q "image libraries: not available: .*cachet-images.so is not installed" <<<"$version" ||
    fail "--version does not say the module is missing: $version"
set +e
"$tmp/alone/cachet" build ../src -o ../out2 --no-cache -q 2>"$tmp/err.log"
code=$?
set -e
[ "$code" = 72 ] || fail "an image build without the module exited $code, not 72: $(cat "$tmp/err.log")"
grep -q "looked for $tmp/alone/cachet-images.so and $tmp/lib/cachet/cachet-images.so" "$tmp/err.log" ||
    fail "the error does not name where it looked: $(cat "$tmp/err.log")"
echo "alone: --version answers, an image build exits 72: $(cat "$tmp/err.log")"
