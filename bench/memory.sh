#!/usr/bin/env bash
# bench/memory.sh - peak RSS of cachet builds against the memory budget ([build] memory, --memory).
#
#   bash bench/memory.sh
#
# Runs, each under /usr/bin/time, with no cache: the corpus (../shared/corpus/make-corpus.sh)
# at -j 1 and -j 2 with the default budget; a 16000x16000 photo at -j 1 and -j 2 (over the
# default budget: it must fail from its header, having decoded nothing); a 4000x3000 noisy
# photo at -j 2 with the default budget and with 600M (where it runs alone, one step at a
# time). Prints wall seconds, peak RSS and failures for each. Needs the build and libvips-tools.
# SKIP_CORPUS=1 leaves out the corpus builds (about 7 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
[ -d "$CORPUS/site" ] || bash ../shared/corpus/make-corpus.sh "$CORPUS" >&2
WORK=$(mktemp -d /tmp/cachet-memory-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

run() { # LABEL SRC ARGS...
  local label=$1 src=$2
  shift 2
  rm -rf "$WORK/out"
  /usr/bin/time -f '%e %M' -o "$WORK/time" ./build/cachet build "$src" -o "$WORK/out" --no-cache --json --quiet "$@" \
    > "$WORK/summary.json" 2>/dev/null || true
  read -r wall rss < <(tail -n 1 "$WORK/time") # (after "Command exited with non-zero status 1")
  python3 - "$label" "$wall" "$rss" "$WORK/summary.json" <<'PY'
import json, sys
label, wall, rss = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
s = json.load(open(sys.argv[4]))
why = "; ".join(f"{f['path']}: {f['message'][:70]}" for f in s["failures"][:2])
print(f"{label:44s} {wall:7.1f} s  peak RSS {rss / 1024:6.0f} MiB  {s['assets']} assets, {s['failed']} failed  {why}")
PY
}

vips black "$WORK/big.v" 16000 16000 --bands 3
mkdir -p "$WORK/big" "$WORK/photo"
vips copy "$WORK/big.v" "$WORK/big/photo.jpg[Q=90]"
rm -f "$WORK/big.v"
for b in r g b; do vips gaussnoise "$WORK/$b.v" 4000 3000 --sigma 40; done
vips bandjoin "$WORK/r.v $WORK/g.v $WORK/b.v" "$WORK/j.v"
vips gaussblur "$WORK/j.v" "$WORK/jb.v" 1.5
vips cast "$WORK/jb.v" "$WORK/jc.v" uchar
vips copy "$WORK/jc.v" "$WORK/photo/photo.jpg[Q=90]"
rm -f "$WORK"/*.v

echo "cachet $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d), $(nproc) cores; default budget: 1 GiB"
if [ "${SKIP_CORPUS:-}" != 1 ]; then # (SKIP_CORPUS=1: the photos only, in a minute)
  run "corpus, -j 1" "$CORPUS/site" -j 1
  run "corpus, -j 2" "$CORPUS/site" -j 2
fi
run "16000x16000 photo, -j 1" "$WORK/big" -j 1
run "16000x16000 photo, -j 2" "$WORK/big" -j 2
run "4000x3000 photo, -j 2" "$WORK/photo" -j 2
run "4000x3000 photo, -j 2, --memory 600M" "$WORK/photo" -j 2 --memory 600M
