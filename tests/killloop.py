#!/usr/bin/env python3
"""tests/killloop.py - kill cachet build at random moments; every published manifest must tell
the truth about every file it names (issue 18, item 8).

    python3 tests/killloop.py --cachet build/cachet --fixtures fixtures [--kills 300] [--seed 1]

A small site (pages, stylesheets, scripts, a few images) is built into OUT again and again, its
sources changed before each build, with and without a cache, and each build is stopped at a
random moment: mostly kill -9, sometimes SIGTERM. After each stop:
- while a build stopped half way through publishing (its journal is there), `cachet export`
  refuses to read OUT; `cachet clean` (as the next build would) finishes the publication;
- then every file the manifest names, and every encoded variant, must exist with exactly the
  bytes, size and integrity the manifest states.
Every tenth round also lets a build finish and checks that no temporary file is left in OUT.
Prints the counts; exit 1 on the first lie.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TMP = ".cachet-tmp-"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_site(src, fixtures, rnd, round_no):
    """(Re)writes the sources: a change in every round, so that pages and names change."""
    for i in range(8):
        css = f"css/s{i}.css"
        write(os.path.join(src, css), f"/* {round_no if rnd.random() < 0.5 else 0} */ .c{i} {{ color: #{i}{i}{i}; }}\n"
              + "p { margin: 0 }\n" * 200)
        write(os.path.join(src, f"js/a{i}.js"), f"console.log({i}, {rnd.randrange(3)});\n" + "// pad\n" * 300)
    for i in range(12):
        css = f"css/s{rnd.randrange(8)}.css"
        img = ["img/a.png", "img/b.jpg", "img/c.png"][i % 3]
        write(os.path.join(src, f"p{i}.html"),
              f"<!doctype html><link rel=stylesheet href=\"{css}\"><script src=\"js/a{i % 8}.js\"></script>"
              f"<img src=\"{img}\" alt=\"\"><p>round {round_no} page {i}</p>\n" + "<p>text</p>\n" * 300)
    os.makedirs(os.path.join(src, "img"), exist_ok=True)
    for name, fixture in (("a.png", "palette-trns.png"), ("b.jpg", "orientation-1.jpg"), ("c.png", "upright.png")):
        dest = os.path.join(src, "img", name)
        if not os.path.exists(dest):
            shutil.copy(os.path.join(fixtures, "images", fixture), dest)


def integrity_of(data, integrity):
    algorithm, _, _ = integrity.partition("-")
    digest = hashlib.new(algorithm, data).digest()
    return algorithm + "-" + base64.b64encode(digest).decode()


def check_out(out):
    """Problems with OUT against its manifest (an empty list if it tells the truth)."""
    manifest_path = os.path.join(out, "cachet-manifest.json")
    if not os.path.exists(manifest_path):
        return []  # nothing published yet: nothing claimed
    with open(manifest_path, "rb") as f:
        manifest = json.loads(f.read())
    problems = []
    for source, asset in manifest["assets"].items():
        for o in asset["outputs"]:
            path = os.path.join(out, o["path"])
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                problems.append(f"{source}: {o['path']}: {e}")
                continue
            if len(data) != o["bytes"]:
                problems.append(f"{source}: {o['path']} has {len(data)} bytes, the manifest says {o['bytes']}")
            elif integrity_of(data, o["integrity"]) != o["integrity"]:
                problems.append(f"{source}: {o['path']}: integrity differs from the manifest's")
            for e in o.get("encodings", []):
                try:
                    size = os.path.getsize(os.path.join(out, e["path"]))
                except OSError as err:
                    problems.append(f"{source}: {e['path']}: {err}")
                    continue
                if size != e["bytes"]:
                    problems.append(f"{source}: {e['path']} has {size} bytes, the manifest says {e['bytes']}")
    return problems


def temporaries(out):
    return [os.path.join(d, n) for d, _, names in os.walk(out) for n in names if n.startswith(TMP)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cachet", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="cachet-killloop-")
    src, out, cache = (os.path.join(work, n) for n in ("src", "out", "cache"))
    env = dict(os.environ, LC_ALL="C")

    def build_cmd(use_cache):
        return [args.cachet, "build", src, "-o", out, "-q"] + (["--cache-dir", cache] if use_cache else ["--no-cache"])

    def finish_build(use_cache):
        p = subprocess.run(build_cmd(use_cache), env=env, capture_output=True, text=True)
        if p.returncode != 0:
            # (once, in CI, a stopped build's lock seemed still held: show who held what)
            holders = subprocess.run(["ps", "-eo", "pid,ppid,stat,args"], capture_output=True, text=True).stdout
            with open("/proc/locks") as f:
                locks = f.read()
            sys.exit(f"a build to the end failed ({p.returncode}): {p.stderr}\nprocesses:\n{holders}\n"
                     f"/proc/locks:\n{locks}")

    try:
        make_site(src, args.fixtures, rnd, 0)
        started = time.monotonic()
        finish_build(False)
        full = time.monotonic() - started  # how long a build without a cache takes
        counts = {"kill -9": 0, "SIGTERM": 0, "stopped while publishing": 0, "finished anyway": 0, "checks": 0}
        for round_no in range(1, args.kills + 1):
            make_site(src, args.fixtures, rnd, round_no)
            use_cache = rnd.random() < 0.5
            if rnd.random() < 0.1:
                shutil.rmtree(out, ignore_errors=True)  # a first build, too
            sig = signal.SIGTERM if rnd.random() < 0.2 else signal.SIGKILL
            p = subprocess.Popen(build_cmd(use_cache), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # Most stops land where the work is; a third land in the last fifth, where it publishes.
            moment = full * (rnd.uniform(0.8, 1.3) if rnd.random() < 0.35 else rnd.uniform(0.0, 1.0))
            time.sleep(moment * (0.3 if use_cache else 1.0))
            if p.poll() is None:
                p.send_signal(sig)
                counts["kill -9" if sig == signal.SIGKILL else "SIGTERM"] += 1
            else:
                counts["finished anyway"] += 1
            _, err = p.communicate()
            # (-15: stopped before it set up its handler, at start-up, before it wrote anything)
            if sig == signal.SIGTERM and p.returncode not in (0, 1, 130, -signal.SIGTERM):
                sys.exit(f"round {round_no}: SIGTERM gave exit {p.returncode}: {err.decode(errors='replace')}")
            if os.path.exists(os.path.join(out, TMP + "publish")):
                counts["stopped while publishing"] += 1
                e = subprocess.run([args.cachet, "export", "headers", "--manifest",
                                    os.path.join(out, "cachet-manifest.json")], env=env, capture_output=True, text=True)
                if e.returncode != 2 or "stopped while it published" not in e.stderr:
                    sys.exit(f"round {round_no}: export read a folder whose publication was not finished "
                             f"(exit {e.returncode}: {e.stderr.strip()})")
                c = subprocess.run([args.cachet, "clean", out, "--keep", "1000"], env=env, capture_output=True,
                                   text=True)
                if c.returncode != 0:
                    sys.exit(f"round {round_no}: cachet clean could not finish the publication: {c.stderr}")
            problems = check_out(out)
            counts["checks"] += 1
            if problems:
                sys.exit(f"round {round_no} ({'cache' if use_cache else 'no cache'}, {sig.name} after "
                         f"{moment:.3f} s): the manifest misdescribes OUT:\n  " + "\n  ".join(problems[:10]))
            if round_no % 10 == 0:
                finish_build(use_cache)
                left = temporaries(out)
                if left or check_out(out):
                    sys.exit(f"round {round_no}: after a build that ran to the end: {left[:5]} {check_out(out)[:5]}")
        print(f"kill loop: {args.kills} rounds, a build without a cache takes {full:.2f} s; " +
              ", ".join(f"{k} {v}" for k, v in counts.items()) + "; no manifest misdescribed a file")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
