#!/usr/bin/env bash
# bench/same-output.sh - proves that a change to cachet's engine left its outputs byte-identical.
#
#   bash bench/same-output.sh record FILE [CACHET]   build the trees, write their digests to FILE
#   bash bench/same-output.sh check FILE [CACHET]    build them again, compare with FILE (exit 1 if not)
#
# The trees: fixtures/site with the default and fast presets (a cold build without a cache, then
# a cold and a warm build with one, which must agree), and, when it is there, the corpus of
# ../shared/corpus/make-corpus.sh (default preset, no cache; set CACHET_CORPUS, or
# SKIP_CORPUS=1 to leave it out: it takes minutes). FILE lists "sha256  tree/path" for every file
# of every OUT, the manifest included, and of every export of the default build's manifest.
# CACHET defaults to build/cachet.
# Run `record` on the commit before the change (git worktree + its own build) and `check` after.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:?usage: same-output.sh record|check FILE [CACHET]}
FILE=${2:?usage: same-output.sh record|check FILE [CACHET]}
CACHET=$(realpath "${3:-build/cachet}")
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
export LC_ALL=C

WORK=$(mktemp -d /tmp/cachet-same-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

digests() { # tree name, OUT folder
  (cd "$2" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sed "s|  \./|  $1/|"
}

build() { # tree name, SRC, extra flags...
  local name=$1 src=$2
  shift 2
  "$CACHET" build "$src" -o "$WORK/$name" "$@" --quiet >/dev/null
  digests "$name" "$WORK/$name"
}

{
  for preset in default fast; do
    build "site-$preset" fixtures/site --preset "$preset" --no-cache
    # With a cache: the cold build and a warm rebuild into a fresh OUT (restored from blobs) agree.
    build "site-$preset-cached" fixtures/site --preset "$preset" --cache-dir "$WORK/cache-$preset"
    rm -rf "$WORK/site-$preset-cached"
    build "site-$preset-cached" fixtures/site --preset "$preset" --cache-dir "$WORK/cache-$preset" | sed 's|^|warm |'
  done
  # Every exporter, from the default build's manifest.
  mkdir -p "$WORK/exports"
  for format in headers nginx caddy s3 sw-precache; do
    # (From inside $WORK, with a relative OUT: the s3 script names it, and must not name $WORK.)
    (cd "$WORK" && "$CACHET" export "$format" --manifest site-default -o site-default --file "exports/$format")
  done
  "$CACHET" export nginx --negotiate --manifest "$WORK/site-default/cachet-manifest.json" --file "$WORK/exports/nginx-negotiate"
  digests exports "$WORK/exports"
  if [ -z "${SKIP_CORPUS:-}" ] && [ -d "$CORPUS/site" ]; then
    build corpus "$CORPUS/site" --no-cache
  fi
} > "$WORK/digests"

# The warm build must be the cold one, line for line.
for preset in default fast; do
  if ! diff <(grep "  site-$preset-cached/" "$WORK/digests" | grep -v '^warm ') \
            <(grep '^warm ' "$WORK/digests" | grep "  site-$preset-cached/" | sed 's/^warm //') >/dev/null; then
    echo "same-output: a warm build ($preset) differs from the cold one" >&2
    exit 1
  fi
done
grep -v '^warm ' "$WORK/digests" > "$WORK/final"

case "$MODE" in
  record)
    cp "$WORK/final" "$FILE"
    echo "same-output: $(wc -l < "$FILE") files recorded in $FILE"
    ;;
  check)
    if diff -u "$FILE" "$WORK/final"; then
      echo "same-output: $(wc -l < "$FILE") files byte-identical"
    else
      echo "same-output: outputs differ from $FILE" >&2
      exit 1
    fi
    ;;
  *) echo "usage: same-output.sh record|check FILE [CACHET]" >&2; exit 2 ;;
esac
