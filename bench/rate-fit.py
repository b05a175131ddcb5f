#!/usr/bin/env python3
"""bench/rate-fit.py - simulate rate-control rules from several measured runs against sharp.

    python3 bench/rate-fit.py FORMAT RUN.tsv:QUALITY [RUN.tsv:QUALITY ...] -- RULE [RULE ...]
    python3 bench/rate-fit.py jpeg RUN.tsv:DISTANCE,STEP [...] -- DISTANCE,STEP [...]

RUN.tsv#NAME selects one run of a file of several (bench/rate-runs-2026-12-04.tsv, whose
header names its runs and their settings), e.g.
    python3 bench/rate-fit.py avif bench/rate-runs-2026-12-04.tsv#fixed:50 \
        bench/rate-runs-2026-12-04.tsv#r64-7:64 bench/rate-runs-2026-12-04.tsv#default:56 -- 56,5,1.7

Each RUN.tsv is what `CACHET_PEER_TSV=RUN.tsv bash bench/peer-sharp.sh` wrote (every measured
(source, width) pair of cachet and sharp: bytes, Butteraugli distance, half, the quality cachet
recorded and the height); QUALITY is the run's configured quality of FORMAT (avif or webp), for
the pairs that recorded none. Several runs at other rules give each pair outputs at several
qualities; a RULE is then simulated pair by pair by interpolating bytes (in log) and distance
linearly in quality between the two nearest measured qualities (extrapolating at most 4
points past the ends; a pair with fewer than two qualities is left out of every rule).

For jpeg (jpegli) the knob is the distance, images.jpeg.distance plus distance_step per
doubling, given per run since the manifest records none; it is interpolated likewise (at most
0.3 past the ends).

A RULE is "Q0,STEP[,CAP]" as cachet applies it (pipeline/image/rate.cpp): quality Q0 at the
reference size (640x427), lowered by STEP per doubling of an output's pixels over it (raised
not raised for smaller outputs), and with CAP, the per-image floor
(images.avif.max_distance): each image's quality raised by the smallest step that brings its
640 px output within CAP (as measured here by interpolation, an approximation of cachet's trial
at the reference size). "Q0,STEP,CAP,RAISED_STEP,LEAST" (experiments, not in cachet): the
images the floor raised get RAISED_STEP per doubling instead (-1: STEP) and never a quality
under LEAST. "...,LEAST,CEILING" (an experiment of 2026-12-06, not in cachet; CAP > 0): an
image the floor did not raise is lowered instead, by the most points that keep its 640 px
output within CEILING (a fixed quality over-spends on easy images; bench/rate-runs-2026-12-06.tsv
run q46 holds the low qualities it reaches). Prints, per half, bytes against sharp over the
pairs both shipped, the mean distance of both, the worst image's mean distance of both, and
the mean raise.
"""
import math
import sys
from collections import defaultdict

REF = 640 * 427


def doublings(pixels):
    return max(0.0, round(math.log2(max(pixels, 1) / REF) * 256) / 256)


def quality_at(q0, step, pixels, raise_, top=99):
    return max(1, min(top, round(min(top, q0 + raise_) - step * doublings(pixels))))


def jpeg_distance_at(d0, step, pixels):
    return max(0.1, min(25.0, d0 + step * doublings(pixels)))


def interpolate(points, q, reach=4):
    """points: sorted [(knob, bytes, distance)]; bytes and distance at knob q."""
    if len(points) < 2:
        return None
    if q < points[0][0] - reach or q > points[-1][0] + reach:
        return None
    lo, hi = points[0], points[1]
    for a, b in zip(points, points[1:]):
        lo, hi = a, b
        if q <= b[0]:
            break
    t = (q - lo[0]) / (hi[0] - lo[0])
    b = math.exp(math.log(lo[1]) + t * (math.log(hi[1]) - math.log(lo[1])))
    d = lo[2] + t * (hi[2] - lo[2])
    return b, d


def main(argv):
    fmt = argv[1]
    sep = argv.index("--")
    runs, rules = argv[2:sep], argv[sep + 1:]
    measured = defaultdict(dict)  # (source, width) -> {quality: (bytes, distance)}
    sharp, half, height = {}, {}, {}
    jpeg = fmt == "jpeg"
    reach = 0.3 if jpeg else 4
    for run in runs:
        path, configured = run.rsplit(":", 1)
        path, _, name = path.partition("#")  # FILE#RUN: one run of a file of several
        run_rule = [float(x) for x in configured.split(",")] + [0.0]
        for line in open(path):
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if name:
                if fields[0] not in (name, "sharp"):
                    continue
                fields = fields[1:]
            tool, source, width, f, b, d, h, q, hgt = fields
            if f != fmt:
                continue
            key = (source, int(width))
            half[source] = h
            if tool == "sharp":
                sharp[key] = (int(b), float(d))
            elif hgt:
                height[key] = int(hgt)
                if jpeg:
                    knob = round(jpeg_distance_at(run_rule[0], run_rule[1], int(width) * int(hgt)), 6)
                else:
                    knob = int(q) if q else int(run_rule[0])
                measured[key][knob] = (int(b), float(d))
    points = {k: sorted((q, b, d) for q, (b, d) in v.items()) for k, v in measured.items()}
    keys = [k for k in points if k in sharp and k in height and len(points[k]) >= 2]
    print(f"{fmt}: {len(keys)} pairs with at least two measured qualities and a sharp output")
    for rule in rules:
        parts = [float(x) for x in rule.split(",")]
        q0, step, cap = parts[0], parts[1], (parts[2] if len(parts) > 2 else 0)
        raised_step = parts[3] if len(parts) > 3 and parts[3] >= 0 else step
        least = parts[4] if len(parts) > 4 else 1
        ceiling = parts[5] if len(parts) > 5 else 0
        knob = (lambda pixels, raise_: jpeg_distance_at(q0, step, pixels)) if jpeg else \
            (lambda pixels, raise_: max(least if raise_ > 0 else 1, quality_at(int(q0), raised_step if raise_ > 0 else step, pixels,
                                                          raise_)))
        # The floor: per image, the raise its 640 px output needs (or its own width, if smaller).
        raises = {}
        for source in {k[0] for k in keys}:
            raise_ = 0
            if cap > 0 and not jpeg:
                widths = sorted(w for (s, w) in points if s == source and (s, w) in height)
                ref = next((w for w in widths if w >= 640), widths[-1])
                key = (source, ref)
                while raise_ < 99 - q0:
                    r = interpolate(points[key], knob(ref * height[key], raise_), reach)
                    if r is None or r[1] <= cap:
                        break
                    raise_ += 1
                while ceiling > 0 and raise_ <= 0 and raise_ > -q0 + 1:
                    r = interpolate(points[key], knob(ref * height[key], raise_ - 1), reach)
                    if r is None or r[1] > ceiling:
                        break
                    raise_ -= 1
            raises[source] = raise_
        line = [f"{rule:>14s}"]
        for h in ("tune", "check"):
            cb = sb = 0
            cds, sds = [], []
            per = defaultdict(lambda: [[], []])
            for k in keys:
                if half.get(k[0]) != h:
                    continue
                r = interpolate(points[k], knob(k[1] * height[k], raises[k[0]]), reach)
                if r is None:
                    continue
                cb += r[0]
                sb += sharp[k][0]
                cds.append(r[1])
                sds.append(sharp[k][1])
                per[k[0]][0].append(r[1])
                per[k[0]][1].append(sharp[k][1])
            worst_c = max(sum(v[0]) / len(v[0]) for v in per.values())
            worst_s = max(sum(v[1]) / len(v[1]) for v in per.values())
            line.append(f"{h}: {100 * (cb / sb - 1):+6.1f}% {sum(cds) / len(cds):.3f}/{sum(sds) / len(sds):.3f}"
                        f" worst {worst_c:.3f}/{worst_s:.3f} ({len(cds)})")
        line.append(f"raise {sum(raises.values()) / len(raises):.1f}")
        print("  ".join(line))


if __name__ == "__main__":
    main(sys.argv)
