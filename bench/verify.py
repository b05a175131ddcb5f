#!/usr/bin/python3
"""verify.py OUT [SCHEMA]: checks a cachet output tree against its manifest, independently of cachet.

- the manifest validates against docs/manifest.schema.json;
- every output exists with the manifest's size and SRI digest, and fingerprinted names carry
  the SHA-256 prefix of their own bytes;
- every image output decodes completely (`vips avg`) at the manifest's width x height;
- every sidecar decompresses (zstd / brotli / gzip command-line tools) to the exact identity bytes.
Prints a one-line verdict; exits 1 on the first kind of problem found (all listed).
"""
import base64
import hashlib
import json
import os
import subprocess
import sys

import jsonschema

out = sys.argv[1]
schema_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "docs", "manifest.schema.json")
manifest = json.load(open(os.path.join(out, "cachet-manifest.json")))
jsonschema.validate(manifest, json.load(open(schema_path)), cls=jsonschema.Draft202012Validator)

problems = []
images = sidecars = files = 0
DECODERS = {"zstd": ["zstd", "-dc"], "br": ["brotli", "-dc"], "gzip": ["gzip", "-dc"]}
for source, asset in manifest["assets"].items():
    for o in asset["outputs"]:
        path = os.path.join(out, o["path"])
        data = open(path, "rb").read()
        files += 1
        if len(data) != o["bytes"]:
            problems.append(f"{o['path']}: {len(data)} bytes, manifest says {o['bytes']}")
        sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        if sri != o["integrity"]:
            problems.append(f"{o['path']}: integrity mismatch")
        if o["fingerprinted"] and "." + hashlib.sha256(data).hexdigest()[:10] + "." not in o["path"] + ".":
            problems.append(f"{o['path']}: name does not carry its own hash")
        if asset["kind"] == "image":
            images += 1
            head = subprocess.run(["vipsheader", "-f", "width", path], capture_output=True, text=True)
            height = subprocess.run(["vipsheader", "-f", "height", path], capture_output=True, text=True)
            full = subprocess.run(["vips", "avg", path], capture_output=True, text=True)
            if full.returncode != 0 or head.stdout.strip() != str(o["width"]) or height.stdout.strip() != str(o["height"]):
                problems.append(f"{o['path']}: does not decode at {o['width']}x{o['height']}: {full.stderr.strip()}")
        for e in o.get("encodings", []):
            sidecars += 1
            plain = subprocess.run(DECODERS[e["encoding"]] + [os.path.join(out, e["path"])], capture_output=True).stdout
            if plain != data:
                problems.append(f"{e['path']}: does not decompress to {o['path']}")

for p in problems:
    print("PROBLEM:", p)
print(f"verify: {len(manifest['assets'])} assets, {files} outputs ({images} images decoded), "
      f"{sidecars} sidecars checked: {'OK' if not problems else str(len(problems)) + ' problems'}")
sys.exit(1 if problems else 0)
