#!/usr/bin/env python3
"""bench/small-fit.py - images.avif.small_quality simulated from measured runs against sharp.

    python3 bench/small-fit.py [bench/rate-runs-small-2026-12-06.tsv]

The file holds bench/peer-sharp.sh runs at widths 320 and 480 with AVIF at three fixed
qualities (runs a56, a50, a45, no floor) and sharp's rows. Over the (source, width) pairs at
320 and 480 px measured in every run and on sharp's side, each candidate small_quality is
simulated as cachet applies it (pipeline/image/rate.cpp: quality 56 lowered by 5 per halving of
pixels under 640x427, to no lower than small_quality), interpolating bytes (in log) and
distance linearly in quality between the measured points. Printed per half: bytes against
sharp's and mean Butteraugli 3-norm distance, cachet / sharp (0 = off: every output at 56).
"""
import collections
import math
import sys

QUALITIES = {"a56": 56, "a50": 50, "a45": 45}
path = sys.argv[1] if len(sys.argv) > 1 else "bench/rate-runs-small-2026-12-06.tsv"
data = collections.defaultdict(dict)
sharp, half, height = {}, {}, {}
for line in open(path):
    if line.startswith("#"):
        continue
    run, tool, src, width, fmt, size, dist, hf, _quality, h = line.rstrip("\n").split("\t")[:10]
    if fmt != "avif" or width not in ("320", "480") or not dist:
        continue
    key = (src, int(width))
    half[key] = hf
    if tool == "sharp":
        sharp[key] = (int(size), float(dist))
    else:
        data[key][QUALITIES[run]] = (int(size), float(dist))
        height[key] = int(h)
pairs = [k for k in data if len(data[k]) == len(QUALITIES) and k in sharp]


def at(key, quality):
    points = sorted(data[key].items())
    quality = min(max(quality, points[0][0]), points[-1][0])
    for (q0, (b0, d0)), (q1, (b1, d1)) in zip(points, points[1:]):
        if q0 <= quality <= q1:
            t = (quality - q0) / (q1 - q0)
            return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0))), d0 + t * (d1 - d0)
    raise ValueError(quality)


def rule(key, small):
    halvings = max(0.0, -round(math.log2(key[1] * height[key] / (640 * 427)) * 256) / 256)
    return max(min(small, 56), round(56 - 5 * halvings)) if small else 56


for small in (0, 54, 52, 50, 48, 46, 45):
    for hf in ("tune", "check"):
        ps = [k for k in pairs if half[k] == hf]
        bc = sum(at(k, rule(k, small))[0] for k in ps)
        bs = sum(sharp[k][0] for k in ps)
        dc = sum(at(k, rule(k, small))[1] for k in ps) / len(ps)
        ds = sum(sharp[k][1] for k in ps) / len(ps)
        print(f"small_quality {small:2}  {hf:5}  {len(ps)} pairs  bytes {100 * (bc / bs - 1):+6.1f}%  "
              f"distance {dc:.3f} / {ds:.3f}")
