#!/usr/bin/env python3
"""bench/avif-ab.py - two AVIF encoder settings compared at the same distance, image by image.

    A='chroma = "444"' B='depth = 10' [W=1080,2048] [Q=38,46,54] [ONLY=.jpg] python3 bench/avif-ab.py

Builds the corpus' images (bench/peer-sharp.sh's tree, ~/.cache/cachet-bench/peer-src) at widths
W as AVIF only, at each quality Q with no size step and no floor, with the [images.avif] lines
A and then B on top of the default preset; measures every output with build/cachet-distance;
and prints, per half (bench/halves.py), width and quality, the bytes B takes at the distance A
reached (interpolated in log bytes between B's qualities) over the images B's points bracket,
and each setting's build time. ONLY keeps the sources whose name ends so (.jpg: the photos).
The raw figures go to /tmp/avif-ab.json. 4:2:0 against 4:4:4 on the photos (docs/benchmarks.md):
ONLY=.jpg A='chroma = "444"' B='chroma = "420"'.
"""
import json, math, os, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from halves import halves
SRC = os.path.expanduser("~/.cache/cachet-bench/peer-src")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHET = os.path.join(ROOT, "build", "cachet")
DIST = os.path.join(ROOT, "build", "cachet-distance")
WIDTHS = [int(x) for x in os.environ.get("W", "1080,2048").split(",")]
QS = [int(x) for x in os.environ.get("Q", "38,46,54").split(",")]
ONLY = os.environ.get("ONLY", "")
SIDES = {"A": os.environ.get("A", ""), "B": os.environ.get("B", "")}

def build(out, extra, q, work):
    cfg = os.path.join(work, "c.toml")
    open(cfg, "w").write(f'[images]\nformats = ["avif"]\nfallback = false\nwidths = [{", ".join(map(str, WIDTHS))}]\n'
                         f'[images.avif]\nquality = {q}\nquality_step = 0\nmax_distance = 0\n{extra}\n')
    start = time.time()
    subprocess.run([CACHET, "build", SRC, "-o", out, "--no-cache", "-q", "-j", "2", "--config", cfg], check=True)
    took = time.time() - start
    m = json.load(open(os.path.join(out, "cachet-manifest.json")))
    rows = [(s, o["width"], os.path.join(out, o["path"]), o["bytes"]) for s, e in m["assets"].items()
            for o in e.get("outputs", []) if o.get("format") == "avif" and o.get("width") in WIDTHS and s.endswith(ONLY)]
    pairs = "".join(f"{os.path.join(SRC, s)}\t{p}\n" for s, _, p, _ in rows)
    d = {l.split("\t")[0]: float(l.split("\t")[1])
         for l in subprocess.run([DIST, "2"], input=pairs, capture_output=True, text=True).stdout.splitlines()}
    return {(s, w): (b, d[p]) for s, w, p, b in rows if p in d}, took

work = tempfile.mkdtemp(prefix="avif-ab-")
res, took = {}, {}
for side, extra in SIDES.items():
    for q in QS:
        res[(side, q)], took[(side, q)] = build(os.path.join(work, f"{side}-{q}"), extra, q, work)
        print(f"built {side} q{q} in {took[(side, q)]:.1f} s", flush=True)
json.dump({f"{side}|{q}": {f"{s}|{w}": v for (s, w), v in r.items()} for (side, q), r in res.items()},
          open("/tmp/avif-ab.json", "w"))
images = sorted({s for r in res.values() for s, _ in r})
half = halves(images)

def interp(points, d):
    points = sorted((dd, b) for b, dd in points)
    for (d0, b0), (d1, b1) in zip(points, points[1:]):
        if d0 <= d <= d1 and d1 > d0:
            t = (d - d0) / (d1 - d0)
            return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
    return None

print(f"A: {SIDES['A']!r}  B: {SIDES['B']!r}")
for h in ("tune", "check"):
    for w in WIDTHS:
        for q in QS:
            a = b = n = 0
            for s in images:
                if half[s] != h or (s, w) not in res[("A", q)]:
                    continue
                ba, da = res[("A", q)][(s, w)]
                x = interp([res[("B", qq)][(s, w)] for qq in QS if (s, w) in res[("B", qq)]], da)
                if x:
                    a += ba; b += x; n += 1
            if n:
                print(f"{h} {w} q{q}: {n} images, B at A's distance {100 * (b / a - 1):+.1f}%")
print("time A", sum(t for (s, _), t in took.items() if s == "A"), "B", sum(t for (s, _), t in took.items() if s == "B"))
