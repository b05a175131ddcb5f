#!/usr/bin/env python3
"""bench/avif-chroma.py - AVIF 4:2:0 against 4:4:4 at the large widths, at the same distance.

    [W=1080,2048] [Q=38,46,54] python3 bench/avif-chroma.py

Builds the corpus' photos (bench/peer-sharp.sh's tree, ~/.cache/cachet-bench/peer-src) at widths
W as AVIF only, at each quality Q with no size step and no floor, in 4:4:4 (the default) and in
4:2:0; measures every output with build/cachet-distance; and prints, per half (bench/halves.py),
width and quality, the bytes 4:2:0 takes at the distance 4:4:4 reached (interpolated in log
bytes between 4:2:0's qualities), over the images the 4:2:0 points bracket. The large outputs
are encoded at low qualities by the rate control (docs/rate-control.md), where coarser chroma
might have paid; the raw figures go to /tmp/chroma.json.
"""
import json, math, os, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from halves import halves
SRC = os.path.expanduser("~/.cache/cachet-bench/peer-src")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHET = os.path.join(ROOT, "build", "cachet")
DIST = os.path.join(ROOT, "build", "cachet-distance")
WIDTHS = [int(x) for x in os.environ.get("W", "1080,2048").split(",")]
QS = [int(x) for x in os.environ.get("Q", "38,46,54").split(",")]
def build(out, chroma, q, work):
    cfg = os.path.join(work, "c.toml")
    open(cfg, "w").write(f'[images]\nformats = ["avif"]\nfallback = false\nwidths = [{", ".join(map(str, WIDTHS))}]\n'
                         f'[images.avif]\nquality = {q}\nquality_step = 0\nmax_distance = 0\nchroma = "{chroma}"\n')
    subprocess.run([CACHET, "build", SRC, "-o", out, "--no-cache", "-q", "-j", "2", "--config", cfg], check=True)
    m = json.load(open(os.path.join(out, "cachet-manifest.json")))
    rows = [(s, o["width"], os.path.join(out, o["path"]), o["bytes"]) for s, e in m["assets"].items()
            for o in e.get("outputs", []) if o.get("format") == "avif" and o.get("width") in WIDTHS and s.endswith(".jpg")]
    pairs = "".join(f"{os.path.join(SRC, s)}\t{p}\n" for s, _, p, _ in rows)
    d = {l.split("\t")[0]: float(l.split("\t")[1]) for l in subprocess.run([DIST, "2"], input=pairs, capture_output=True, text=True).stdout.splitlines()}
    return {(s, w): (b, d[p]) for s, w, p, b in rows if p in d}
work = tempfile.mkdtemp(prefix="chroma-")
res = {}
for c in ("444", "420"):
    for q in QS:
        res[(c, q)] = build(os.path.join(work, f"{c}-{q}"), c, q, work)
        print("done", c, q, flush=True)
json.dump({f"{c}|{q}": {f"{s}|{w}": v for (s, w), v in r.items()} for (c, q), r in res.items()}, open("/tmp/chroma.json", "w"))
images = sorted({s for r in res.values() for s, _ in r})
half = halves(images)
def interp(points, d):
    points = sorted((dd, b) for b, dd in points)
    for (d0, b0), (d1, b1) in zip(points, points[1:]):
        if d0 <= d <= d1 and d1 > d0:
            t = (d - d0) / (d1 - d0); return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
    return None
for h in ("tune", "check"):
    for w in WIDTHS:
        for q in QS:
            a = b = n = 0
            for s in images:
                if half[s] != h or (s, w) not in res[("444", q)]: continue
                b444, d444 = res[("444", q)][(s, w)]
                x = interp([res[("420", qq)][(s, w)] for qq in QS if (s, w) in res[("420", qq)]], d444)
                if x: a += b444; b += x; n += 1
            if n: print(f"{h} {w} q{q}: {n} images, 4:2:0 at 4:4:4's distance {100*(b/a-1):+.1f}%")
