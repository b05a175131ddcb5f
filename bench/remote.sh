#!/usr/bin/env bash
# bench/remote.sh - the shared remote cache and sharded builds on the corpus (docs/remote-cache.md).
#
#   bash bench/remote.sh
#
# Starts nginx with WebDAV on 127.0.0.1 (a free port) as the team cache, then, on the corpus
# (../shared/corpus/make-corpus.sh), each under /usr/bin/time:
#   1. machine A: a cold build (empty local and remote caches), uploading;
#   2. machine B (another checkout path, an empty local cache): the warm remote cache;
#   3. machine B into a new OUT: the warm local cache (the outputs written from it);
#   4. machine B, no-op rebuilds of the same OUT with and without --remote-cache (and the
#      requests nginx saw during them: a local hit never touches the network);
#   5. sharding: a plain build at -j 1, then for N = 1, 2, 4 the N shards one after another
#      (-j 1 each, each with its own local cache, one remote cache per N) and the final build
#      (an empty local cache, -j 2): each shard's CPU time, their sum against the plain
#      build's, the final step's wall time.
# Prints one line per run and the ratios. SKIP_SHARDS=1 leaves out 5 (about 15 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CACHET_CORPUS:-$HOME/.cache/cachet-corpus}
[ -d "$CORPUS/site" ] || bash ../shared/corpus/make-corpus.sh "$CORPUS" >&2
WORK=$(mktemp -d /tmp/cachet-remote-XXXXXX)
trap 'kill "$(cat "$WORK/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$WORK"' EXIT
BIN=$PWD/build/cachet

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/root" "$WORK/tmp"
cat > "$WORK/nginx.conf" <<EOF
user root;
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 256; }
http {
    access_log $WORK/access.log;
    client_body_temp_path $WORK/tmp;
    server {
        listen 127.0.0.1:$PORT;
        root $WORK/root;
        client_max_body_size 0;
        location / { dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r; }
    }
}
EOF
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
sleep 0.5
URL=http://127.0.0.1:$PORT

cp -r "$CORPUS/site" "$WORK/site-a"
cp -r "$CORPUS/site" "$WORK/site-b"

# run LABEL SRC OUT CACHE ARGS...: prints the label, wall, user+sys CPU, images built, remote counters.
run() {
  local label=$1 src=$2 out=$3 cache=$4
  shift 4
  /usr/bin/time -f '%e %U %S' -o "$WORK/time" "$BIN" build "$src" -o "$out" --cache-dir "$cache" --json --quiet "$@" \
    > "$WORK/summary.json"
  python3 - "$label" "$WORK/time" "$WORK/summary.json" <<'PY' | tee -a "$WORK/results"
import json, sys
label = sys.argv[1]
wall, user, system = map(float, open(sys.argv[2]).read().split()[-3:])
s = json.load(open(sys.argv[3]))
r = s.get("remote_cache") or {}
images = s["kinds"].get("image", {})
print(f"{label:46s} wall {wall:7.2f} s  cpu {user + system:7.1f} s  images built {images.get('built', 0):3d}"
      f"  remote hits {r.get('hits', '-')}, uploads {r.get('uploads', '-')}, "
      f"down {r.get('bytes_down', 0) / 1048576:.1f} MiB, up {r.get('bytes_up', 0) / 1048576:.1f} MiB")
PY
}
seconds() { grep -F "$1" "$WORK/results" | tail -n 1 | sed -E 's/.*wall +([0-9.]+) s.*/\1/'; }
cpu() { grep -F "$1" "$WORK/results" | tail -n 1 | sed -E 's/.*cpu +([0-9.]+) s.*/\1/'; }

echo "== $(date -u +%F) commit $(git rev-parse --short HEAD), corpus $(find "$CORPUS/site" -type f | wc -l) files, nproc $(nproc)"
run "1. cold build, uploading (A, -j 2)" "$WORK/site-a" "$WORK/out-a" "$WORK/cache-a" --remote-cache "$URL/c" -j 2
run "2. warm remote, cold local (B, -j 2)" "$WORK/site-b" "$WORK/out-b" "$WORK/cache-b" --remote-cache "$URL/c" -j 2
run "3. warm local, new OUT (B, -j 2)" "$WORK/site-b" "$WORK/out-b2" "$WORK/cache-b" --remote-cache "$URL/c" -j 2
: > "$WORK/access.log"
run "4a. no-op, no remote cache (B)" "$WORK/site-b" "$WORK/out-b2" "$WORK/cache-b" -j 2
run "4b. no-op, with the remote cache (B)" "$WORK/site-b" "$WORK/out-b2" "$WORK/cache-b" --remote-cache "$URL/c" -j 2
echo "   requests nginx saw during the no-op builds: $(wc -l < "$WORK/access.log")"
cmp -s <(cd "$WORK/out-a" && find . -type f -exec sha256sum {} + | sort) \
       <(cd "$WORK/out-b" && find . -type f -exec sha256sum {} + | sort) &&
  echo "   OUT of A and B: byte-identical" || echo "   OUT of A and B DIFFER"
python3 - "$(seconds '1. cold')" "$(seconds '2. warm remote')" "$(seconds '3. warm local')" <<'PY'
import sys
cold, remote, local = map(float, sys.argv[1:])
print(f"   warm remote / warm local: {remote / local:.2f}x (goal <= 2x); cold / warm remote: {cold / remote:.0f}x (goal >= 50x)")
PY

[ "${SKIP_SHARDS:-0}" = 1 ] && exit 0
run "5. plain build (-j 1)" "$WORK/site-a" "$WORK/plain" "$WORK/plain-cache" -j 1
single=$(cpu "5. plain build")
for n in 1 2 4; do
  total=0
  for i in $(seq 1 "$n"); do
    run "5. N=$n shard $i (-j 1)" "$WORK/site-a" "$WORK/shard-$n-$i" "$WORK/shard-cache-$n-$i" \
      --remote-cache "$URL/s$n" --shard "$i/$n" -j 1
    total=$(python3 -c "print($total + $(cpu "5. N=$n shard $i "))")
  done
  run "5. N=$n final build (-j 2)" "$WORK/site-b" "$WORK/final-$n" "$WORK/final-cache-$n" --remote-cache "$URL/s$n" -j 2
  cmp -s <(cd "$WORK/plain" && find . -type f -exec sha256sum {} + | sort) \
         <(cd "$WORK/final-$n" && find . -type f -exec sha256sum {} + | sort) &&
    same="byte-identical to the plain build" || same="DIFFERS from the plain build"
  python3 - "$n" "$total" "$single" "$(seconds "5. N=$n final")" "$same" <<'PY'
import sys
n, total, single, final, same = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
print(f"   N={n}: shards' CPU {total:.1f} s = {100 * total / single:.1f}% of the plain build's {single:.1f} s;"
      f" final step {final:.2f} s; OUT {same}")
PY
done
