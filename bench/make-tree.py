#!/usr/bin/env python3
"""bench/make-tree.py DIR [FILES]: a synthetic site tree for the incremental-build benchmarks.

FILES (default 10000) files in nested folders, deterministic: 85% small text files (JS, CSS,
HTML, JSON, SVG; 200 B to 6 KiB, a third of them big enough to get compressed sidecars), 10%
small PNG images (16 to 96 px, drawn here with zlib), 5% binary passthrough files.
"""
import os, random, struct, sys, zlib

def png(width, height, rnd):
    rows = bytearray()
    a, b = rnd.randrange(256), rnd.randrange(256)
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 255 // width + a) & 255, (y * 255 // height + b) & 255, (x ^ y) & 255))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b""))

WORDS = "asset cache build manifest image width height module export import const function return value".split()

def text(ext, size, rnd):
    out = []
    n = 0
    while n < size:
        w = " ".join(rnd.choice(WORDS) for _ in range(8))
        line = {"js": f"export const {rnd.choice(WORDS)}{n} = () => '{w}';",
                "css": f".c{n} {{ margin: {n % 17}px; content: '{w}'; }}",
                "html": f"<p class=\"c{n}\">{w}</p>",
                "json": f"{{\"k{n}\": \"{w}\"}},",
                "svg": f"<rect x=\"{n % 97}\" y=\"{n % 89}\" width=\"4\" height=\"4\"/>"}[ext]
        out.append(line)
        n += len(line) + 1
    return ("\n".join(out) + "\n").encode()

def main():
    root = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rnd = random.Random(42)
    for i in range(files):
        folder = os.path.join(root, f"section{i % 20:02d}", f"part{(i // 20) % 25:02d}")
        os.makedirs(folder, exist_ok=True)
        r = i % 20
        if r < 2:
            data, name = png(rnd.randrange(16, 97), rnd.randrange(16, 97), rnd), f"img{i}.png"
        elif r < 3:
            data, name = rnd.randbytes(rnd.randrange(500, 4000)), f"font{i}.woff2"
        else:
            ext = rnd.choice(["js", "css", "html", "json", "svg"])
            size = rnd.randrange(1200, 6000) if i % 3 == 0 else rnd.randrange(200, 1000)
            data, name = text(ext, size, rnd), f"file{i}.{ext}"
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)

main()
