#!/usr/bin/env bash
# bench/corpus-build.sh - times `cachet build` on the realistic corpus and verifies the result.
#
#   bash bench/corpus-build.sh [PRESET] [JOBS]     (defaults: default, nproc)
#
# Builds the corpus with ../shared/corpus/make-corpus.sh (cached in ~/.cache/cachet-corpus),
# runs one cold build (empty OUT) under /usr/bin/time, prints wall and CPU seconds, peak RSS,
# images per second and bytes in/out per format, then checks the output with bench/verify.py.
# Needs: the build (bash tools/dev.sh demo), zstd, brotli, gzip, time.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-default}
JOBS=${2:-$(nproc)}
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
for p in time zstd brotli; do
  command -v "$p" >/dev/null || apt-get install -y -q --no-install-recommends "$p" >/dev/null
done
[ -d "$CORPUS/site" ] || bash ../shared/corpus/make-corpus.sh "$CORPUS" >&2
[ -x build/cachet ] || { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHET_AOM_PREFIX="$(bash tools/build-aom.sh)" -DCACHET_JPEGLI_PREFIX="$(bash tools/build-jpegli.sh)" >/dev/null && cmake --build build >/dev/null; }

OUT=$(mktemp -d /tmp/cachet-bench-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
/usr/bin/time -f '%e %U %S %M' -o "$OUT.time" \
  ./build/cachet build "$CORPUS/site" -o "$OUT/site" --preset "$PRESET" -j "$JOBS" --no-cache --json --quiet > "$OUT.json"
read -r wall user sys rss < "$OUT.time"
rm -f "$OUT.time"

/usr/bin/python3 - "$OUT.json" "$wall" "$user" "$sys" "$rss" "$PRESET" "$JOBS" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
wall, user, sysc, rss = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
mib = lambda b: f"{b / 1048576:8.2f} MiB"
images = s["kinds"].get("image", {}).get("assets", 0)
print(f"cachet {sys.argv[6]} preset, -j {sys.argv[7]}: {s['assets']} assets, {s['failed']} failed")
print(f"  wall {wall:.1f} s, CPU {user + sysc:.1f} s (user {user:.1f}, sys {sysc:.1f}), peak RSS {rss / 1024:.0f} MiB")
print(f"  images: {images} in {wall:.1f} s = {images / wall:.2f} images/s")
for kind, t in sorted(s["kinds"].items()):
    print(f"  {kind:12s} in  {mib(t['bytes_in'])}  ({t['assets']} files)")
    for fmt, f in sorted(t["outputs"].items()):
        print(f"  {'':12s} out {mib(f['bytes'])}  {fmt} ({f['files']} files)")
for f in s["failures"]:
    print("  FAILED", f["path"], f["message"])
PY
rm -f "$OUT.json"
/usr/bin/python3 bench/verify.py "$OUT/site"
