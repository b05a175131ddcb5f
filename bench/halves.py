#!/usr/bin/env python3
"""bench/halves.py - the tuning half and the checking half of a set of images.

    python3 bench/halves.py < paths        prints "tune<TAB>path" or "check<TAB>path" per line

Settings are chosen on the tuning half and reported on both: a setting tuned on one set of
images does not always carry over to others. The split is stratified and stable: within each
kind (photos, PNG, GIF, the rest, by extension) the paths are ordered by the SHA-256 of the
path and dealt alternately, tuning first, so each half gets its share of each kind and a
path's half never depends on the machine or on the other files of its kind changing order.
"""
import hashlib
import sys


def kind(path):
    ext = path.rsplit(".", 1)[-1].lower()
    return {"jpg": "photo", "jpeg": "photo", "jpe": "photo", "jfif": "photo", "png": "png", "gif": "gif"}.get(ext, "other")


def halves(paths):
    out = {}
    by_kind = {}
    for p in paths:
        by_kind.setdefault(kind(p), []).append(p)
    for group in by_kind.values():
        for i, p in enumerate(sorted(group, key=lambda p: hashlib.sha256(p.encode()).hexdigest())):
            out[p] = "tune" if i % 2 == 0 else "check"
    return out


if __name__ == "__main__":
    paths = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    h = halves(paths)
    for p in paths:
        print(f"{h[p]}\t{p}")
