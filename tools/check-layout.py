#!/usr/bin/env python3
"""tools/check-layout.py - keeps the house as README's Layout section draws it.

    python3 tools/check-layout.py [ROOT]      check the tree at ROOT (default: the repository)
    python3 tools/check-layout.py --self-test check that each rule catches what it is for

Rules, for every .hpp and .cpp under pipeline/ and cli/:
- a folder includes only its own files and those of folders on a lower floor (LAYERS below):
  the vocabulary at the bottom, the engine and the CLI at the top;
- no include cycle between files;
- no file longer than MAX_LINES lines;
- every folder of pipeline/ has a floor (a new room must be placed).
Exit 1 with one line per breach, naming the file.
"""
import os
import re
import sys
import tempfile

# Floors, lowest first; a folder may include folders of a lower floor, never of its own
# (other than itself) or a higher one.
LAYERS = [
    ["pipeline/model"],                       # shared vocabulary, one row per image format
    ["pipeline/fs"],                          # files: atomic writes, stats, globs, the FileSystem seam
    ["pipeline/config"],                      # presets and their keys
    ["pipeline/image", "pipeline/publish"],   # the image stack; manifest, headers, budgets, retention, markup
    ["pipeline/text", "pipeline/cache", "pipeline/export"],  # references and compression; the cache; exporters
    ["pipeline/build"],                       # the engine: scan, plan, scheduler, outputs, publication
    ["pipeline/watch"],
    ["cli"],
]
MAX_LINES = 500
INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:pipeline|cli)/[^"]+)"', re.M)


def folder_of(path):
    parts = path.split("/")
    return "cli" if parts[0] == "cli" else "/".join(parts[:2])


def check(root):
    floor = {folder: i for i, names in enumerate(LAYERS) for folder in names}
    files = {}
    for top in ("pipeline", "cli"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in names:
                if name.endswith((".hpp", ".cpp")):
                    rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                    with open(os.path.join(root, rel), encoding="utf-8") as f:
                        files[rel] = f.read()
    problems = []
    for folder in sorted({folder_of(f) for f in files}):
        if folder not in floor:
            problems.append(f"{folder}: a folder with no floor in tools/check-layout.py's LAYERS")
    graph = {}
    for path, text in sorted(files.items()):
        lines = text.count("\n")
        if lines > MAX_LINES:
            problems.append(f"{path}: {lines} lines (at most {MAX_LINES}: split it)")
        here = folder_of(path)
        graph[path] = []
        for target in INCLUDE.findall(text):
            graph[path].append(target)
            there = folder_of(target)
            if there != here and here in floor and there in floor and floor[there] >= floor[here]:
                problems.append(f"{path}: includes {target}, which is not on a lower floor than {here}")
    # Include cycles, by depth-first search.
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append("include cycle: " + " -> ".join(cycle))
            elif nxt in graph and not state.get(nxt):
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node)
    return problems


def self_test():
    def tree(files):
        root = tempfile.mkdtemp(prefix="cachet-layout-")
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        return root

    good = {"pipeline/model/a.hpp": "#pragma once\n", "pipeline/build/b.cpp": '#include "pipeline/model/a.hpp"\n'}
    cases = {
        "a clean tree": (good, None),
        "an upward include": ({**good, "pipeline/model/c.hpp": '#include "pipeline/build/b.hpp"\n',
                               "pipeline/build/b.hpp": ""}, "not on a lower floor"),
        "a sideways include": ({"pipeline/image/a.hpp": '#include "pipeline/publish/b.hpp"\n',
                                "pipeline/publish/b.hpp": ""}, "not on a lower floor"),
        "a cycle": ({"pipeline/fs/a.hpp": '#include "pipeline/fs/b.hpp"\n',
                     "pipeline/fs/b.hpp": '#include "pipeline/fs/a.hpp"\n'}, "include cycle"),
        "a long file": ({"pipeline/fs/a.cpp": "\n" * (MAX_LINES + 1)}, "lines (at most"),
        "a folder with no floor": ({"pipeline/attic/a.hpp": ""}, "no floor"),
    }
    failed = 0
    for name, (files, expected) in cases.items():
        problems = check(tree(files))
        ok = not problems if expected is None else any(expected in p for p in problems)
        print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f": {problems}"))
        failed += 0 if ok else 1
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    problems = check(root)
    for p in problems:
        print(p)
    if not problems:
        print("layout: every floor, include and length as drawn")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
