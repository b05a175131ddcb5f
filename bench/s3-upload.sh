#!/usr/bin/env bash
# bench/s3-upload.sh - `cachet export s3`'s upload plan against s3rver, per object and grouped.
#
#   bash bench/s3-upload.sh [FILES]     (default 2000)
#
# Makes a tree of FILES text sources in 20 folders (css, js, json, svg, html: a documentation
# site's mix), builds it (preset fast), exports the S3 plan both ways (`--per-object`: one
# `aws s3 cp` per object; the default: one `aws s3 cp --recursive` with include filters per
# group of objects S3 stores with the same headers), starts s3rver (from build/integration,
# as the tests do) on 127.0.0.1 at a free port, and times each plan into an empty bucket.
# The per-object plan takes about a second per object here (one aws process each), so only its
# first SAMPLE commands run (default 300) and its time is extrapolated to every object, and
# said so. Checks that the grouped plan's bucket holds exactly the per-object plan's keys.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-2000}
SAMPLE=${SAMPLE:-300}
WORK=$(mktemp -d /tmp/cachet-s3-XXXXXX)
trap 'kill "$(cat "$WORK/s3rver.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$WORK"' EXIT
BIN=$PWD/build/cachet
S3RVER=$PWD/build/integration/node_modules/s3rver/bin/s3rver.js
[ -f "$S3RVER" ] || { echo "s3rver is not in build/integration: run bash tools/dev.sh test once" >&2; exit 1; }

python3 - "$WORK/src" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
kinds = [("css", ".a{color:#%06x}\n"), ("js", "export const v%d = %d;\n"), ("json", '{"v": %d, "w": %d}\n'),
         ("svg", '<svg xmlns="http://www.w3.org/2000/svg"><rect width="%d" height="%d"/></svg>\n'),
         ("html", "<!doctype html><title>%d</title><p>%d</p>\n")]
for i in range(n):
    ext, body = kinds[i % len(kinds)]
    folder = os.path.join(root, "section%02d" % (i % 20))
    os.makedirs(folder, exist_ok=True)
    text = (body % (i, i) if body.count("%") == 2 else body % i) * 40  # ~1-2 KB: compressed variants
    with open(os.path.join(folder, "f%05d.%s" % (i, ext)), "w") as f:
        f.write(text)
PY
"$BIN" build "$WORK/src" -o "$WORK/out" --preset fast --no-cache -q
(cd "$WORK" && "$BIN" export s3 --manifest out --per-object --file per-object.sh &&
    "$BIN" export s3 --manifest out --file grouped.sh)
objects=$(grep -c '^\$aws s3 cp' "$WORK/per-object.sh")
commands=$(grep -c '^\$aws s3 cp' "$WORK/grouped.sh")
includes=$(grep -c -- '--include' "$WORK/grouped.sh")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/store"
node "$S3RVER" --address 127.0.0.1 --port "$PORT" --directory "$WORK/store" \
    --configure-bucket per-object --configure-bucket grouped --silent >"$WORK/s3rver.log" 2>&1 &
echo $! >"$WORK/s3rver.pid"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
    AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=$WORK/none AWS_SHARED_CREDENTIALS_FILE=$WORK/none
# The per-object plan: its header, then its first SAMPLE commands.
{ sed -n '/^\$aws s3 cp/q;p' "$WORK/per-object.sh"; grep '^\$aws s3 cp' "$WORK/per-object.sh" | sed -n "1,${SAMPLE}p"; } \
    >"$WORK/per-object-sample.sh"
sampled=$(grep -c '^\$aws s3 cp' "$WORK/per-object-sample.sh")
seconds() { python3 -c "print(f'{$2 - $1:.1f}')"; }
start=$(date +%s.%N)
(cd "$WORK" && sh per-object-sample.sh s3://per-object --endpoint-url "http://127.0.0.1:$PORT")
end=$(date +%s.%N)
sample_s=$(seconds "$start" "$end")
printf 'per-object %6d objects  %5d aws commands  %7s s for %d of them: %s s for all (extrapolated)\n' "$objects" \
    "$objects" "$sample_s" "$sampled" "$(python3 -c "print(f'{$sample_s * $objects / $sampled:.0f}')")"
start=$(date +%s.%N)
(cd "$WORK" && sh grouped.sh s3://grouped --endpoint-url "http://127.0.0.1:$PORT")
end=$(date +%s.%N)
# (The keys as s3rver stores them: its ListObjectsV2 fails on a bucket this large.)
(cd "$WORK/store/grouped" && find . -name '*._S3rver_object' | sed 's|^\./||; s|\._S3rver_object$||' | sort) \
    >"$WORK/grouped.keys"
printf 'grouped    %6d objects  %5d aws commands  %7s s\n' "$(wc -l <"$WORK/grouped.keys")" "$commands" \
    "$(seconds "$start" "$end")"
grep '^\$aws s3 cp' "$WORK/per-object.sh" | sed "s|.*\"\$dest\"/'\([^']*\)'.*|\1|" | sort >"$WORK/expected.keys"
cmp -s "$WORK/expected.keys" "$WORK/grouped.keys" || { echo "the grouped plan's bucket is not the per-object plan's keys" >&2; exit 1; }
echo "($FILES sources; $objects objects; the grouped plan has $includes include filters in $commands commands)"
