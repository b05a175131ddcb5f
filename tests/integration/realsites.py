#!/usr/bin/python3
"""Real sites, made by other people's tools, built by cachet with its defaults and compared in
Chromium with the originals.

    realsites.py --cachet BIN --node-modules DIR [--pages N] [--sites a,b] [--report FILE]

Each site is fetched from a pinned Debian or npm package (never committed): documentation made
by Sphinx, MkDocs, Doxygen and Javadoc, and two image-heavy landing-page templates. For each:
`cachet build` with the defaults; the original folder served by nginx as it is, and cachet's
OUT served by nginx with `cachet export nginx` (negotiating, the default), with
`--no-negotiate`, and by Caddy with `cachet export caddy`; a sample of pages (N per site, every
page with a script feature among them) loaded in headless Chromium with a cold cache
(realsite.mjs). cachet's side must be no worse than the original on every count, on every page:
failed requests, HTTP errors, console errors, broken images, script features (search results,
menus built by script, toggles), the screenshot (under 1% of pixels visibly different), and
bytes transferred with negotiation (never more). Every URL of the original site must answer
from OUT with the same kind of content. Exits 0 when all of that holds; prints a report.
"""
import argparse
import gzip
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import free_port, run, start_caddy, start_nginx, stop  # noqa: E402

# The sites: Debian packages (name, version; each .deb's sha256 in realsites.sha256) extracted
# together, and the folder that holds the site; or an npm package from NODE_MODULES (pinned in
# package-lock.json).
SITES = {
    "sphinx": {
        "generator": "Sphinx 5.3 (sphinx-doc)",
        "debs": [("sphinx-doc", "5.3.0-4"),
                 ("libjs-sphinxdoc", "5.3.0-4"),
                 ("libjs-jquery", "3.6.1+dfsg+~3.5.14-1"),
                 ("libjs-underscore", "1.13.4~dfsg+~1.11.4-3")],
        "root": "usr/share/doc/sphinx-doc/html",
        "features": {"search.html?q=builder": ["search_results"], "py-modindex.html": ["sphinx_toggle"]},
    },
    "mkdocs": {
        "generator": "MkDocs 1.4 (mkdocs-doc)",
        "debs": [("mkdocs-doc", "1.4.2+dfsg-2"),
                 ("fonts-font-awesome", "5.0.10+really4.7.0~dfsg-4.1"),
                 ("libjs-lunr", "2.3.9~dfsg-2"),
                 ("libjs-bootstrap4", "4.6.1+dfsg1-4+deb12u1"),
                 ("libjs-jquery", "3.6.1+dfsg+~3.5.14-1")],
        "root": "usr/share/doc/mkdocs/html",
        "features": {"index.html": ["mkdocs_search"]},
    },
    "doxygen": {
        "generator": "Doxygen (libjsoncpp-doc)",
        "debs": [("libjsoncpp-doc", "1.9.5-4")],
        "root": "usr/share/doc/libjsoncpp-doc",
        "features": {"index.html": ["doxygen_menu"], "annotated.html": ["doxygen_menu", "doxygen_toggle"]},
    },
    "javadoc": {
        "generator": "Javadoc 11 (libargparse4j-java-doc)",
        "debs": [("libargparse4j-java-doc", "0.4.4-1.1")],
        "root": "usr/share/doc/libargparse4j-java/api",
        "features": {"index-all.html": ["javadoc_search"]},
    },
    "agency": {
        "generator": "Start Bootstrap Agency 7.0.12 (npm)",
        "npm": "startbootstrap-agency",
        "root": "dist",
        "features": {"index.html": ["navbar_shrink"]},
    },
    "creative": {
        "generator": "Start Bootstrap Creative 7.0.7 (npm)",
        "npm": "startbootstrap-creative",
        "root": "dist",
        "features": {"index.html": ["navbar_shrink"]},
    },
}

VISIBLE_SHARE = 0.01  # screenshots: at most 1% of pixels visibly different (see README)


def cache_dir():
    d = os.environ.get("CACHET_SITES_CACHE") or os.path.expanduser("~/.cache/cachet-sites")
    os.makedirs(d, exist_ok=True)
    return d


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_debs(name, site, pins):
    """The site's Debian packages, downloaded once (apt-get download, checked against pins),
    extracted together."""
    cache = cache_dir()
    tree = os.path.join(cache, "tree-" + name)
    if os.path.isdir(tree):
        return tree
    staging = tree + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    for package, version in site["debs"]:
        deb = os.path.join(cache, f"{package}_{version.replace(':', '%3a')}_all.deb")
        if not os.path.exists(deb):
            try:
                run(["apt-get", "download", f"{package}={version}"], cwd=cache)
            except SystemExit:  # no package lists yet (a fresh image): read them, once more
                run(["apt-get", "update", "-q"])
                run(["apt-get", "download", f"{package}={version}"], cwd=cache)
        digest = sha256_of(deb)
        pinned = pins.get(os.path.basename(deb))
        if pinned != digest:
            os.remove(deb)
            raise SystemExit(f"{deb}: sha256 {digest}, but realsites.sha256 pins {pinned or 'nothing'}")
        run(["dpkg-deb", "-x", deb, staging])
    os.rename(staging, tree)
    return tree


def site_folder(name, work, node_modules, pins):
    """A copy of the site with its links to other packages' files resolved (a web server
    serves files, not links out of the root)."""
    site = SITES[name]
    if "npm" in site:
        root = os.path.join(node_modules, site["npm"], site["root"])
    else:
        root = os.path.join(fetch_debs(name, site, pins), site["root"])
    dest = os.path.join(work, name, "src")
    # (shutil.copytree checks a relative link's target against the working folder: not this.)
    for folder, _, files in os.walk(root, followlinks=True):
        for f in files:
            source = os.path.realpath(os.path.join(folder, f))
            if os.path.isfile(source):
                target = os.path.join(dest, os.path.relpath(os.path.join(folder, f), root))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(source, target)
    return dest


def html_pages(src):
    pages = []
    for folder, _, files in os.walk(src):
        for f in files:
            if f.endswith(".html"):
                pages.append(os.path.relpath(os.path.join(folder, f), src))
    return sorted(pages)


def sample(pages, must, n):
    """must first, then pages spread evenly over the sorted rest, n in all (at least must)."""
    chosen = list(must)
    rest = [p for p in pages if p not in {m.split("?")[0] for m in must}]
    want = max(0, n - len(chosen))
    if want and rest:
        step = len(rest) / min(want, len(rest))
        chosen += [rest[int(i * step)] for i in range(min(want, len(rest)))]
    return chosen


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/" + path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        return response.status, (response.getheader("Content-Type") or "").split(";")[0], response.read()
    finally:
        conn.close()


def family(content_type):
    """What a content type says a file is: "script" and "xml" for their aliases, else its top type."""
    for alias in ("javascript", "ecmascript", "xml"):
        if alias in content_type:
            return "xml" if alias == "xml" else "script"
    return content_type.split("/")[0]


def check_urls(src, original_port, cachet_port, manifest, failures):
    """Every file of the original site answers from OUT with the same kind of content: the same
    bytes for what cachet copies as it is."""
    passthrough = {s for s, a in manifest["assets"].items() if a["kind"] == "passthrough"}
    count = 0
    for folder, _, files in os.walk(src):
        for f in files:
            path = os.path.relpath(os.path.join(folder, f), src)
            url = "/".join(urllib.parse.quote(part) for part in path.split(os.sep))
            status, kind, body = get(cachet_port, url)
            count += 1
            if status != 200:
                failures.append(f"/{path}: {status} from cachet's OUT")
                continue
            _, original_kind, original_body = get(original_port, url)
            # (Where the original server knows no type, nginx's default, any type cachet names is more.)
            if original_kind != "application/octet-stream" and family(kind) != family(original_kind):
                failures.append(f"/{path}: {kind} from cachet's OUT, {original_kind} originally")
            if path in passthrough and body != original_body:
                failures.append(f"/{path}: not the original's bytes")
    return count


def compare(name, results, failures):
    """cachet's servers against the original, page by page."""
    totals = {}
    for page, servers in results["pages"].items():
        original = servers["original"]
        for server, r in servers.items():
            t = totals.setdefault(server, {"bytes": 0, "pages": 0})
            t["bytes"] += r["bytes"]
            t["pages"] += 1
            if server == "original":
                continue
            where = f"{name}: {page} ({server})"
            for count in ("failed", "http_errors", "console_errors", "broken_images"):
                if len(r[count]) > len(original[count]):
                    failures.append(f"{where}: {len(r[count])} {count.replace('_', ' ')} against "
                                    f"{len(original[count])}: {r[count][:5]}")
            for feature, value in original["features"].items():
                got = r["features"].get(feature)
                if isinstance(value, (int, float)) and got != value:
                    failures.append(f"{where}: {feature} gave {got!r}, the original {value!r}")
            share = (r.get("difference") or {}).get("share", 1 if r.get("shot") is None else 0)
            if share > VISIBLE_SHARE:
                failures.append(f"{where}: {share:.2%} of the screenshot's pixels differ visibly "
                                f"{(r.get('difference') or {}).get('size', '')}")
            if server == "nginx" and r["bytes"] > original["bytes"]:
                failures.append(f"{where}: {r['bytes']} bytes transferred, the original {original['bytes']}")
    return totals


def minified_totals(src, out, manifest):
    """What minification saved: the scripts and stylesheets cachet minified (its identity output
    smaller than the source by more than rewritten references explain), their bytes before and
    after, and the same gzipped at level 9 on both sides (what a visitor would be sent)."""
    t = {"files": 0, "minified": 0, "before": 0, "after": 0, "gzip_before": 0, "gzip_after": 0}
    for source, a in manifest["assets"].items():
        if a["kind"] != "text" or not source.endswith((".js", ".mjs", ".cjs", ".css")):
            continue
        t["files"] += 1
        with open(os.path.join(src, source), "rb") as f:
            before = f.read()
        with open(os.path.join(out, a["outputs"][0]["path"]), "rb") as f:
            after = f.read()
        if len(after) >= len(before) * 0.98:
            continue
        t["minified"] += 1
        t["before"] += len(before)
        t["after"] += len(after)
        t["gzip_before"] += len(gzip.compress(before, 9, mtime=0))
        t["gzip_after"] += len(gzip.compress(after, 9, mtime=0))
    return t


def check_site(name, opts, work, pins, report):
    failures = []
    site = SITES[name]
    src = site_folder(name, work, opts.node_modules, pins)
    out = os.path.join(work, name, "out")
    started = time.monotonic()
    summary = json.loads(run([opts.cachet, "build", src, "-o", out, "--no-cache", "--json"]))
    build_seconds = time.monotonic() - started
    manifest_path = os.path.join(out, "cachet-manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    serve = os.path.join(work, name, "serve")
    for sub in ("original", "nginx", "plain", "caddy"):
        os.makedirs(os.path.join(serve, sub), exist_ok=True)
    with open(os.path.join(serve, "original", "original.nginx"), "w") as f:
        f.write("include /etc/nginx/mime.types;\ndefault_type application/octet-stream;\n")  # as Debian's nginx.conf
    run([opts.cachet, "export", "nginx", "--manifest", manifest_path, "--file", os.path.join(serve, "nginx", "cachet.nginx")])
    run([opts.cachet, "export", "nginx", "--no-negotiate", "--manifest", manifest_path,
         "--file", os.path.join(serve, "plain", "cachet.nginx")])
    run([opts.cachet, "export", "caddy", "--manifest", manifest_path, "--file", os.path.join(serve, "caddy", "cachet.caddy")])
    ports = {s: free_port() for s in ("original", "nginx", "plain", "caddy")}
    processes = []
    try:
        processes.append(start_nginx(os.path.join(serve, "original"), src, ports["original"], "original.nginx"))
        processes.append(start_nginx(os.path.join(serve, "nginx"), out, ports["nginx"]))
        processes.append(start_nginx(os.path.join(serve, "plain"), out, ports["plain"]))
        processes.append(start_caddy(os.path.join(serve, "caddy"), out, ports["caddy"]))
        urls = check_urls(src, ports["original"], ports["nginx"], manifest, failures)
        pages = sample(html_pages(src), list(site["features"]), opts.pages)
        shots = os.path.join(work, name, "shots")
        os.makedirs(shots, exist_ok=True)
        job = {"servers": {s: f"http://127.0.0.1:{p}/" for s, p in ports.items()}, "reference": "original",
               "pages": pages, "features": site["features"], "shots": shots}
        job_path = os.path.join(work, name, "job.json")
        results_path = os.path.join(work, name, "results.json")
        with open(job_path, "w") as f:
            json.dump(job, f)
        driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "realsite.mjs")
        env = dict(os.environ, NODE_PATH=opts.node_modules, HOME=work)
        result = subprocess.run(["node", driver, job_path, results_path, opts.node_modules],
                                capture_output=True, text=True, env=env, timeout=1800)
        if result.returncode != 0:
            failures.append(f"{name}: the browser driver failed: {result.stderr[-2000:]}")
            return failures
        with open(results_path) as f:
            results = json.load(f)
    finally:
        for p in processes:
            stop(p)
    totals = compare(name, results, failures)
    features = {}
    for page, servers in results["pages"].items():
        for feature, value in servers["original"]["features"].items():
            features[f"{feature} ({page})"] = (value, servers["nginx"]["features"].get(feature))
    src_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src) for f in fs)
    images = sum(1 for a in manifest["assets"].values() if a["kind"] == "image")
    # What cachet changed: references rewritten in the pages (an HTML output that differs from
    # its source), and what scripts name, left as written.
    rewritten_pages = sum(1 for s_, a in manifest["assets"].items() if s_.endswith(".html") and
                          a["outputs"][0]["bytes"] != a["source"]["bytes"])
    report.append({
        "minified": minified_totals(src, out, manifest),
        "site": name, "generator": site["generator"], "pages": len(results["pages"]), "urls": urls,
        "files": len(manifest["assets"]), "images": images, "src_bytes": src_bytes,
        "images_modern": summary.get("images_modern", 0), "rewritten_pages": rewritten_pages,
        "html_pages": sum(1 for s_ in manifest["assets"] if s_.endswith(".html")),
        "build_seconds": round(build_seconds, 2),
        "bytes": {s: t["bytes"] for s, t in totals.items()}, "features": features,
        "failures": len(failures),
    })
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cachet", required=True)
    parser.add_argument("--node-modules", required=True)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--sites", default=",".join(SITES))
    parser.add_argument("--report", help="write the per-site report (JSON) here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (screenshots, results)")
    opts = parser.parse_args()
    opts.node_modules = os.path.abspath(opts.node_modules)
    pins_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "realsites.sha256")
    pins = {}
    if os.path.exists(pins_path):
        for line in open(pins_path):
            if line.strip() and not line.startswith("#"):
                digest, deb = line.split()
                pins[deb] = digest
    work = tempfile.mkdtemp(prefix="cachet-realsites-")
    failures, report = [], []
    try:
        for name in opts.sites.split(","):
            failures += check_site(name, opts, work, pins, report)
    finally:
        if opts.keep:
            print(f"realsites: work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for r in report:
        b = r["bytes"]
        saved = 1 - b.get("nginx", 0) / b["original"] if b.get("original") else 0
        print(f"{r['site']:9} {r['generator']}: {r['pages']} pages, {r['urls']} URLs answer, build "
              f"{r['build_seconds']} s, {r['files']} files ({r['images']} images, {r['images_modern']} with AVIF or "
              f"WebP; {r['rewritten_pages']} of {r['html_pages']} pages rewritten); transferred {b.get('original', 0):,} B originally, {b.get('plain', 0):,} B "
              f"plain, {b.get('nginx', 0):,} B negotiating ({saved:.0%} less), Caddy {b.get('caddy', 0):,} B; "
              f"features {r['features']}")
        m = r["minified"]
        if m["before"]:
            print(f"{'':9} minified {m['minified']} of {m['files']} scripts and stylesheets: {m['before']:,} B to "
                  f"{m['after']:,} B ({m['after'] / m['before'] - 1:.0%}), gzipped {m['gzip_before']:,} B to "
                  f"{m['gzip_after']:,} B ({m['gzip_after'] / m['gzip_before'] - 1:.0%})")
    if opts.report:
        with open(opts.report, "w") as f:
            json.dump(report, f, indent=1)
    if failures:
        print(f"realsites: {len(failures)} failures:", file=sys.stderr)
        for item in failures[:60]:
            print("  " + item, file=sys.stderr)
        return 1
    print(f"realsites: every check passed on {len(report)} sites")
    return 0


if __name__ == "__main__":
    sys.exit(main())
