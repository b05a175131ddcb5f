#!/usr/bin/env python3
"""bench/jxl-curve.py - JPEG XL against cachet's AVIF, at the same Butteraugli distance.

    python3 bench/jxl-curve.py [DISTANCE ...]        (defaults: 1.0 1.4 1.8 2.4 3.2)

Builds the corpus' images (bench/peer-sharp.sh's tree of links, ~/.cache/cachet-bench/peer-src,
made by that script) at widths 640, 1080 and 2048 with build/cachet: once with AVIF at the
default preset, then once per DISTANCE with JPEG XL alone (images.jxl.distance, no step), no
fallback, -j 2. Measures every output's Butteraugli 3-norm distance with build/cachet-distance
(the code bench/peer-sharp.sh uses), then, per half (bench/halves.py) and width: AVIF's bytes and
mean distance, and JPEG XL's bytes at AVIF's distance, image by image (interpolated in log bytes
between the two JPEG XL points that bracket it), summed over the images the JPEG XL points
bracket. Also prints the JPEG XL distance that matched, per width: what images.jxl.distance and
distance_step should be for JPEG XL to sit at AVIF's distance. Nothing is kept but the report.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from halves import halves  # noqa: E402

SRC = os.path.expanduser("~/.cache/cachet-bench/peer-src")
WIDTHS = [640, 1080, 2048]
CACHET = os.path.join(ROOT, "build", "cachet")
DISTANCE = os.path.join(ROOT, "build", "cachet-distance")


def build(site, out, config, work):
    cfg = os.path.join(work, "cachet.toml")
    with open(cfg, "w") as f:
        f.write(config)
    subprocess.run([CACHET, "build", site, "-o", out, "--no-cache", "-q", "-j", "2", "--config", cfg], check=True)
    manifest = json.load(open(os.path.join(out, "cachet-manifest.json")))
    rows = []  # (source, width, path, bytes)
    for source, entry in manifest["assets"].items():
        for o in entry.get("outputs", []):
            if o.get("format") in ("avif", "jxl") and o.get("width") in WIDTHS:
                rows.append((source, o["width"], os.path.join(out, o["path"]), o["bytes"]))
    pairs = "".join(f"{os.path.join(site, s)}\t{p}\n" for s, _, p, _ in rows)
    measured = subprocess.run([DISTANCE, "2"], input=pairs, capture_output=True, text=True, check=True).stdout
    distance = {line.split("\t")[0]: float(line.split("\t")[1]) for line in measured.splitlines() if "\t" in line}
    return {(s, w): (b, distance[p]) for s, w, p, b in rows if p in distance}


def main(argv):
    distances = [float(x) for x in argv[1:]] or [1.0, 1.4, 1.8, 2.4, 3.2]
    if not os.path.isdir(SRC):
        sys.exit("jxl-curve: run bench/peer-sharp.sh once first (it links the corpus' images)")
    images = sorted(os.path.relpath(os.path.join(d, f), SRC) for d, _, fs in os.walk(SRC) for f in fs
                    if f.lower().endswith((".jpg", ".jpeg", ".png")))
    half = halves(images)
    with tempfile.TemporaryDirectory(prefix="cachet-jxl-") as work:
        widths = f"widths = [{', '.join(map(str, WIDTHS))}]\n"
        avif = build(SRC, os.path.join(work, "avif"), f"[images]\nformats = [\"avif\"]\nfallback = false\n{widths}", work)
        jxl = {d: build(SRC, os.path.join(work, f"jxl{d}"),
                        f"[images]\nformats = [\"jxl\"]\nfallback = false\n{widths}"
                        f"[images.jxl]\ndistance = {d}\ndistance_step = 0\n", work) for d in distances}
    print(f"JPEG XL distances {distances}; widths {WIDTHS}; {len(images)} images")
    for h in ("tune", "check"):
        for w in WIDTHS:
            a_bytes = j_bytes = 0
            a_d, knobs, n = [], [], 0
            for (source, width), (b, d) in avif.items():
                if width != w or half.get(source) != h:
                    continue
                points = sorted((jxl[k][(source, width)][1], jxl[k][(source, width)][0], k)
                                for k in distances if (source, width) in jxl[k])
                for (d0, b0, k0), (d1, b1, k1) in zip(points, points[1:]):
                    if d0 <= d <= d1 and d1 > d0:
                        t = (d - d0) / (d1 - d0)
                        j_bytes += math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
                        knobs.append(k0 + t * (k1 - k0))
                        a_bytes += b
                        a_d.append(d)
                        n += 1
                        break
            if n:
                knobs.sort()
                print(f"{h:5s} {w:4d} px: {n:2d} images, AVIF {a_bytes / 1e3:8.1f} kB at {sum(a_d) / n:.3f}; "
                      f"JPEG XL at the same distances {j_bytes / 1e3:8.1f} kB ({100 * (j_bytes / a_bytes - 1):+.1f}%), "
                      f"its distance setting median {knobs[len(knobs) // 2]:.2f}")


if __name__ == "__main__":
    main(sys.argv)
