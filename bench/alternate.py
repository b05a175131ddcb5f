#!/usr/bin/env python3
"""Two or more cachet binaries timed in turn on no-op rebuilds, so that a machine whose speed
drifts within minutes (this one's does) slows them all alike.

    python3 bench/alternate.py ROUNDS DIR:BINARY [DIR:BINARY ...]

DIR holds site/ (SRC), out/ (OUT) and cache/ from earlier builds with that binary. Give each
binary a DIR of its own: one whose index format differs would throw the other's index away,
and even with the same format a shared cache makes each binary take the image stack's
fingerprint again after the other (about 25 ms a build at 10,000 files).
Each round runs `BINARY build site -o out --cache-dir cache -q` once per pair, in order;
prints each pair's median, mean, min and max wall time in milliseconds."""
import statistics
import subprocess
import sys
import time

rounds, pairs = int(sys.argv[1]), [tuple(a.rsplit(":", 1)) for a in sys.argv[2:]]
times = {pair: [] for pair in pairs}
for _ in range(rounds):
    for folder, binary in pairs:
        start = time.perf_counter()
        subprocess.run([binary, "build", "site", "-o", "out", "--cache-dir", "cache", "-q"], cwd=folder, check=True)
        times[(folder, binary)].append((time.perf_counter() - start) * 1000)
for (folder, binary), ms in times.items():
    ms.sort()
    print(f"{folder} {binary}: median {statistics.median(ms):.1f} ms, mean {statistics.mean(ms):.1f}, "
          f"min {ms[0]:.1f}, max {ms[-1]:.1f} ({rounds} rounds)")
