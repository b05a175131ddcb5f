#!/usr/bin/env bash
# bench/incremental.sh - what the second build and the watch loop cost on a large tree.
#
#   bash bench/incremental.sh [FILES] [RUNS] [EDITS]     (defaults: 10000 20 100)
#
# 1. bench/make-tree.py writes a synthetic tree of FILES files (mostly small text files and
#    small PNGs) under /tmp, once (kept in ~/.cache/cachet-bench/tree-FILES).
# 2. A full `cachet build` with a fresh cache, then one more build so that the index trusts
#    every file's stat (files modified within the last second are hashed again on purpose).
# 3. No-op rebuild: RUNS builds that change nothing; wall time from process start to exit.
#    The same with --remote-cache naming a server (docs/remote-cache.md): no request is made.
# 4. One CSS file changed: RUNS times, a line appended to one stylesheet, then a build; timed
#    from process start to the manifest's rename into OUT (seen through inotify), and to exit.
# 5. Watch latency: `cachet watch` (its default preset, fast; debounce 10 ms) on the same tree,
#    once its first build is done; EDITS times a line is
#    appended to one stylesheet and the time from the file's close to the new manifest on disk
#    is taken (the manifest is polled every millisecond).
# Prints p50 / p95 / max in milliseconds, and the --timings of one no-op and one one-CSS build
# (where the time goes). Run it on an idle machine.
# PARTS=N: every build and the watch with output.manifest_parts = N (a manifest in parts of
# about N sources each, docs/manifest.md), instead of one manifest file.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-10000}
RUNS=${2:-20}
EDITS=${3:-100}
BUILD=${CACHET_BUILD_DIR:-build}
TREE=$HOME/.cache/cachet-bench/tree-$FILES
[ -x "$BUILD/cachet" ] || { echo "incremental: build cachet first (bash tools/dev.sh demo)" >&2; exit 2; }
[ -d "$TREE" ] || /usr/bin/python3 bench/make-tree.py "$TREE" "$FILES"
WORK=$(mktemp -d /tmp/cachet-incremental-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -a "$TREE" "$WORK/site"
touch -d '1 hour ago' $(find "$WORK/site" -type f) 2>/dev/null || find "$WORK/site" -type f -exec touch -d '1 hour ago' {} +

/usr/bin/python3 - "$BUILD/cachet" "$WORK" "$RUNS" "$EDITS" "${PARTS:-0}" <<'PY'
import ctypes, os, statistics, struct, subprocess, sys, threading, time
cachet, work, runs, edits, parts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
site, out, cache = f"{work}/site", f"{work}/out", f"{work}/cache"
config = []
if parts:
    with open(f"{work}/parts.toml", "w") as f:
        f.write(f"[output]\nmanifest_parts = {parts}\n")
    config = ["--config", f"{work}/parts.toml"]
build = [cachet, "build", site, "-o", out, "--cache-dir", cache, "-q"] + config
css = sorted(os.path.join(d, f) for d, _, fs in os.walk(site) for f in fs if f.endswith(".css"))[0]

def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return (time.perf_counter() - t) * 1000

# When the manifest is renamed into place in OUT, seen through inotify (IN_MOVED_TO) by a thread
# blocked in read(): the moment the issue's "process start to published manifest" ends at.
libc = ctypes.CDLL("libc.so.6", use_errno=True)
class Published:
    def __init__(self, folder, name):
        self.fd = libc.inotify_init1(0)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, folder.encode(), 0x80) < 0:  # IN_MOVED_TO
            sys.exit("inotify failed")
        self.name, self.at, self.seen = name.encode(), None, threading.Event()
        threading.Thread(target=self.read, daemon=True).start()
    def read(self):
        while True:
            data = os.read(self.fd, 65536)
            now = time.perf_counter()
            at = 0
            while at < len(data):
                _, _, _, size = struct.unpack_from("iIII", data, at)
                if data[at + 16:at + 16 + size].rstrip(b"\0") == self.name:
                    self.at = now
                    self.seen.set()
                at += 16 + size
    def timed(self, cmd):
        self.at = None
        self.seen.clear()
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        done = time.perf_counter()
        if not self.seen.wait(5):
            sys.exit("the manifest was not published")
        return (self.at - t) * 1000, (done - t) * 1000

def show(name, samples):
    s = sorted(samples)
    p95 = s[min(len(s) - 1, int(round(0.95 * len(s))) - 1)]
    print(f"{name:<28} p50 {statistics.median(s):7.1f} ms   p95 {p95:7.1f} ms   max {s[-1]:7.1f} ms   ({len(s)} runs)")

print(f"tree: {sum(len(f) for _, _, f in os.walk(site))} files; {cachet}" +
      (f"; manifest in parts of about {parts} sources" if parts else ""))
print(f"{'full build (empty cache)':<28} {timed(build) / 1000:7.1f} s")
time.sleep(1.1)
timed(build)
show("no-op rebuild", [timed(build) for _ in range(runs)])
# The same with a remote cache set (a port nothing listens on): a local hit never touches the
# network, so it costs nothing (a request would also print a warning).
show("no-op, --remote-cache set", [timed(build + ["--remote-cache", "http://127.0.0.1:9/cachet"]) for _ in range(runs)])
published = Published(out, "cachet-manifest.json")
samples = []
for i in range(runs):
    with open(css, "a") as f:
        f.write(f".bench{i} {{ color: red }}\n")
    samples.append(published.timed(build))
show("one CSS: start to manifest", [p for p, _ in samples])
show("one CSS: start to exit", [e for _, e in samples])
# Where the time goes: one more of each with --timings (its lines as cachet prints them).
time.sleep(1.1)  # the last edit is then old enough for its stat to be trusted: a true no-op
for name, change in (("no-op", False), ("one CSS", True)):
    if change:
        with open(css, "a") as f:
            f.write(".timings { color: green }\n")
    lines = subprocess.run(build + ["--timings"], check=True, stderr=subprocess.PIPE, text=True).stderr
    print(f"--timings, {name}: " + "; ".join(l.split("timing:", 1)[1].strip() for l in lines.splitlines() if "timing:" in l))

manifest = f"{out}/cachet-manifest.json"
log = open(f"{work}/watch.log", "w")
watcher = subprocess.Popen([cachet, "watch", site, "-o", out, "--cache-dir", cache] + config,  # its default preset: fast
                           stderr=log)
deadline = time.time() + 600
while "checked everything" not in open(f"{work}/watch.log").read():
    if time.time() > deadline:
        sys.exit("watch did not start")
    time.sleep(0.05)
samples = []
for i in range(edits):
    before = os.stat(manifest).st_mtime_ns
    with open(css, "a") as f:
        f.write(f".watch{i} {{ color: blue }}\n")
    t = time.perf_counter()  # the file is closed here
    while os.stat(manifest).st_mtime_ns == before:
        if time.perf_counter() - t > 10:
            sys.exit("no new manifest within 10 s")
        time.sleep(0.001)
    samples.append((time.perf_counter() - t) * 1000)
    time.sleep(0.15)
watcher.terminate()
watcher.wait()
show("watch: close to manifest", samples)
PY
