#!/usr/bin/env python3
"""Watch rebuild latency of two or more cachet binaries, taken in turn on trees already built,
so that a machine whose speed drifts within minutes (this one's does) slows them all alike.

    python3 bench/watch-ab.py ROUNDS EDITS DIR:BINARY [DIR:BINARY ...]

DIR holds site/ (SRC), out/ (OUT) and cache/ from earlier builds with that binary (see
bench/alternate.py); a DIR/watch.toml, if there, is passed as --config (manifest_parts, say).
Each round starts `BINARY watch` (with --timings) on each DIR in turn, waits for its first
build, then appends a line to the first stylesheet EDITS times and takes the time from the
file's close to the new manifest on disk (polled every millisecond), as bench/incremental.sh
does. Prints per pair: p50 and p95 of those times over all rounds, and the median of each
--timings step of the rebuilds (where the time goes)."""
import collections
import os
import re
import statistics
import subprocess
import sys
import time

rounds, edits = int(sys.argv[1]), int(sys.argv[2])
pairs = [tuple(a.rsplit(":", 1)) for a in sys.argv[3:]]
samples = {pair: [] for pair in pairs}
steps = {pair: collections.defaultdict(list) for pair in pairs}


def session(folder, binary):
    site, out = f"{folder}/site", f"{folder}/out"
    css = sorted(os.path.join(d, f) for d, _, fs in os.walk(site) for f in fs if f.endswith(".css"))[0]
    manifest = f"{out}/cachet-manifest.json"
    config = ["--config", f"{folder}/watch.toml"] if os.path.exists(f"{folder}/watch.toml") else []
    log_path = f"{folder}/watch-ab.log"
    with open(log_path, "w") as log:
        watcher = subprocess.Popen([binary, "watch", site, "-o", out, "--cache-dir", f"{folder}/cache", "--timings"] +
                                   config, stderr=log)
        deadline = time.time() + 600
        while "checked everything" not in open(log_path).read():
            if time.time() > deadline or watcher.poll() is not None:
                sys.exit(f"{folder}: watch did not start")
            time.sleep(0.05)
        for i in range(edits):
            before = os.stat(manifest).st_mtime_ns
            with open(css, "a") as f:
                f.write(f".ab{time.time_ns()} {{ color: blue }}\n")
            t = time.perf_counter()  # the file is closed here
            while os.stat(manifest).st_mtime_ns == before:
                if time.perf_counter() - t > 10:
                    sys.exit(f"{folder}: no new manifest within 10 s")
                time.sleep(0.001)
            samples[(folder, binary)].append((time.perf_counter() - t) * 1000)
            time.sleep(0.15)
        watcher.terminate()
        watcher.wait()
    text = open(log_path).read().split("checked everything", 1)[1]
    for m in re.finditer(r"\(\+\s*([\d.]+)\)\s+(.+)", text):
        if m.group(2).strip() != "changes noticed":
            steps[(folder, binary)][m.group(2).strip()].append(float(m.group(1)))


for _ in range(rounds):
    for pair in pairs:
        session(*pair)
for pair in pairs:
    s = sorted(samples[pair])
    print(f"{pair[0]} {pair[1]}: watch p50 {statistics.median(s):.1f} ms, p95 {s[max(0, int(len(s) * 0.95) - 1)]:.1f} ms "
          f"({len(s)} rebuilds)")
    if os.environ.get("WATCH_AB_ALL"):
        print("    every rebuild, in order:", " ".join(f"{x:.0f}" for x in samples[pair]))
    for step, ms in steps[pair].items():
        print(f"    {step:30s} {statistics.median(ms):6.1f} ms")
