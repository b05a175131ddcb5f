#!/usr/bin/python3
"""cachet's output checked by the real programs that serve and upload it.

    servers.py nginx|caddy|s3|chromium --cachet BIN --fixtures DIR --node-modules DIR

Each check builds fixtures/site with cachet (plus a [[headers]] rule, so extra headers are
exercised too), exports the configuration for the program under test, starts that program on
127.0.0.1 with a free port, checks every output through it, and stops it. Nothing is reached
but 127.0.0.1. Exits 0 when every check holds, 1 with the failures listed otherwise.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CONFIG = """
[[headers]]
match = "fonts/**"
extra = { "Access-Control-Allow-Origin" = "*" }

[[headers]]
match = "*.html"
extra = { "X-Content-Type-Options" = "nosniff" }
"""

SIDECAR = {"zstd": ".zst", "br": ".br", "gzip": ".gz"}


class Failures:
    def __init__(self):
        self.items = []

    def check(self, ok, what):
        if not ok:
            self.items.append(what)
        return ok

    def report(self, label, checked):
        if self.items:
            print(f"{label}: {len(self.items)} of {checked} checks failed:", file=sys.stderr)
            for item in self.items[:40]:
                print("  " + item, file=sys.stderr)
            return 1
        print(f"{label}: all {checked} checks passed")
        return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, log, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{read(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {seconds} s:\n{read(log)}")


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


# The servers' checks build JPEG XL too (off by default), coarse enough to come out smaller
# than the AVIF of most images, so that it ships and is negotiated (with no AVIF floor, its
# distance is as set, not matched to the AVIF's).
WITH_JXL = """
[images]
formats = ["avif", "webp", "jxl"]
[images.avif]
max_distance = 0
[images.jxl]
distance = 4
"""


def build_site(opts, work, extra_files=None, config_text=CONFIG):
    """Builds fixtures/site (plus extra_files: {path: text}) into work/out; returns (out, manifest)."""
    out = os.path.join(work, "out")
    config = os.path.join(work, "cachet.toml")
    with open(config, "w") as f:
        f.write(config_text)
    src = os.path.join(opts.fixtures, "site")
    if extra_files:
        src = os.path.join(work, "site")
        shutil.copytree(os.path.join(opts.fixtures, "site"), src)
        for path, text in extra_files.items():
            with open(os.path.join(src, path), "w") as f:
                f.write(text)
    run([opts.cachet, "build", src, "-o", out, "--no-cache", "-q", "--config", config])
    with open(os.path.join(out, "cachet-manifest.json")) as f:
        manifest = json.load(f)
    return out, manifest


def export(opts, out, fmt, target):
    run([opts.cachet, "export", fmt, "--manifest", os.path.join(out, "cachet-manifest.json"), "--file", target])


def served(manifest):
    """(url path, output) for every output, and the manifest itself with output None."""
    items = []
    for source, asset in sorted(manifest["assets"].items()):
        for o in asset["outputs"]:
            items.append(("/" + o["path"], o))
    items.append(("/cachet-manifest.json", None))
    return items


def get(port, path, headers, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, response.headers, body
    finally:
        conn.close()


def manifest_says(body, o, variant):
    """Whether body is the bytes the manifest describes: an output's by its integrity and ETag,
    an encoded variant's by its ETag (the manifest itself: no digest to compare)."""
    if o is None:
        return True
    sha256 = hashlib.sha256(body).hexdigest()
    if variant:
        return variant["etag"] == f'"{sha256[:32]}"' and variant["bytes"] == len(body)
    sri = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
    return o["integrity"] == sri and o["etag"] == f'"{sha256[:32]}"' and o["bytes"] == len(body)


def file_bytes(out, path):
    with open(os.path.join(out, path.lstrip("/")), "rb") as f:
        return f.read()


def check_server(port, out, manifest, encodings, supported, vary_only_with_variants, fail):
    """Every output through a server: each Accept-Encoding in encodings gets the sidecar if the
    server supports that encoding and the file has one, else the file, with the manifest's headers."""
    checked = 0
    for url, o in served(manifest):
        expected_type = o["content_type"] if o else "application/json; charset=utf-8"
        expected_cc = o["cache_control"] if o else "no-cache"
        variants = {e["encoding"]: e for e in (o or {}).get("encodings", [])}
        for accept in ["identity"] + encodings:
            status, headers, body = get(port, url, {"Accept-Encoding": accept})
            where = f"{url} (Accept-Encoding: {accept})"
            checked += 1
            if not fail.check(status == 200, f"{where}: status {status}"):
                continue
            variant = variants.get(accept) if accept in supported else None
            want = file_bytes(out, variant["path"] if variant else url)
            got_encoding = headers.get("Content-Encoding")
            fail.check(got_encoding == (accept if variant else None),
                       f"{where}: Content-Encoding {got_encoding!r}, expected {accept if variant else None!r}")
            fail.check(body == want, f"{where}: {len(body)} bytes that are not the {'sidecar' if variant else 'file'}'s {len(want)}")
            fail.check(manifest_says(body, o, variant), f"{where}: the bytes served are not those the manifest describes")
            fail.check(headers.get("Content-Type") == expected_type,
                       f"{where}: Content-Type {headers.get('Content-Type')!r}, manifest says {expected_type!r}")
            fail.check(headers.get("Cache-Control") == expected_cc,
                       f"{where}: Cache-Control {headers.get('Cache-Control')!r}, manifest says {expected_cc!r}")
            vary = [v.strip().lower() for v in ",".join(headers.get_all("Vary") or []).split(",") if v.strip()]
            if o and o.get("vary"):
                fail.check(vary.count("accept-encoding") == 1, f"{where}: Vary {vary!r}, expected Accept-Encoding once")
            elif vary_only_with_variants:
                fail.check("accept-encoding" not in vary, f"{where}: Vary {vary!r} on a file with no variants")
            for name, value in ((o or {}).get("headers") or {}).items():
                fail.check(headers.get(name) == value, f"{where}: {name} {headers.get(name)!r}, manifest says {value!r}")
    return checked


# --- nginx -----------------------------------------------------------------------------------

NGINX_CONF = """
load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;
user root;
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        include {work}/{include};
    }}
}}
"""


def start_nginx(work, root, port, include="cachet.nginx"):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=work, port=port, root=root, include=include))
    log = os.path.join(work, "error.log")
    run(["/usr/sbin/nginx", "-t", "-q", "-p", work, "-e", log, "-c", conf])
    process = subprocess.Popen(["/usr/sbin/nginx", "-p", work, "-e", log, "-c", conf],
                               stdout=subprocess.DEVNULL, stderr=open(log + ".stderr", "w"))
    wait_for_port(port, process, log)
    return process


MODERN = ["jxl", "avif", "webp"]  # most preferred first


def check_negotiation(port, out, manifest, fail, jxl=False):
    """Each fallback image URL serves the most preferred modern format of its size a browser
    accepts (JPEG XL, else AVIF, else WebP), and itself otherwise, always with Vary: Accept.
    With jxl, some must have served a JPEG XL."""
    checked = 0
    served_jxl = 0
    for source, asset in sorted(manifest["assets"].items()):
        if asset["kind"] != "image":
            continue
        for fallback in asset["outputs"]:
            if fallback.get("format") in (None, *MODERN):
                continue
            same = {o["format"]: o for o in asset["outputs"]
                    if "format" in o and o["width"] == fallback["width"] and o["height"] == fallback["height"]}
            if not any(f in same for f in MODERN):
                continue

            def best(accepted):
                return next((same[f] for f in MODERN if f in accepted and f in same), fallback)
            browsers = {"image/jxl,image/avif,image/webp,*/*": best({"jxl", "avif", "webp"}),  # Safari 17
                        "image/avif,image/webp,*/*": best({"avif", "webp"}),  # Chrome, Firefox
                        "image/webp,*/*": best({"webp"}),
                        "*/*": fallback}
            served_jxl += browsers["image/jxl,image/avif,image/webp,*/*"].get("format") == "jxl"
            for accept, want in browsers.items():
                status, headers, body = get(port, "/" + fallback["path"], {"Accept": accept, "Accept-Encoding": "identity"})
                where = f"/{fallback['path']} (Accept: {accept})"
                checked += 1
                if not fail.check(status == 200, f"{where}: status {status}"):
                    continue
                fail.check(body == file_bytes(out, want["path"]), f"{where}: not the bytes of {want['path']}")
                fail.check(headers.get("Content-Type") == want["content_type"],
                           f"{where}: Content-Type {headers.get('Content-Type')!r}, expected {want['content_type']!r}")
                fail.check(headers.get("Vary") == "Accept", f"{where}: Vary {headers.get('Vary')!r}, expected 'Accept'")
                fail.check(headers.get("Cache-Control") == fallback["cache_control"],
                           f"{where}: Cache-Control {headers.get('Cache-Control')!r}")
    fail.check(checked > 0, "no fallback image had an AVIF or a WebP to negotiate")
    fail.check(served_jxl > 0 or not jxl, "no fallback image had a JPEG XL to negotiate")
    return checked


def check_nginx(opts, work):
    out, manifest = build_site(opts, work, config_text=CONFIG + WITH_JXL)
    # Negotiation is on by default; --no-negotiate is the plain include.
    export(opts, out, "nginx", os.path.join(work, "cachet-negotiate.nginx"))
    run([opts.cachet, "export", "nginx", "--no-negotiate", "--manifest", os.path.join(out, "cachet-manifest.json"),
         "--file", os.path.join(work, "cachet.nginx")])
    fail = Failures()
    checked = 0
    for include in ("cachet.nginx", "cachet-negotiate.nginx"):
        port = free_port()
        process = start_nginx(work, out, port, include)
        try:
            checked += check_server(port, out, manifest, ["br", "gzip", "zstd"], ["br", "gzip"], True, fail)
            if include == "cachet-negotiate.nginx":
                checked += check_negotiation(port, out, manifest, fail, jxl=True)
        finally:
            stop(process)
    return fail.report("nginx", checked)


def check_deploy(opts, work):
    """A rollout: nginx serves OUT; build 2 replaces build 1 and `cachet clean` runs; every
    asset of build 1's pages still answers 200 until the keep and age limits pass."""
    src = os.path.join(work, "site")
    shutil.copytree(os.path.join(opts.fixtures, "site"), src)
    out = os.path.join(work, "out")

    def build():
        run([opts.cachet, "build", src, "-o", out, "--no-cache", "-q"])
        with open(os.path.join(out, "cachet-manifest.json")) as f:
            return json.load(f)

    first = build()
    export(opts, out, "nginx", os.path.join(work, "cachet.nginx"))
    build1 = sorted(path for path, o in served(first) if o)
    port = free_port()
    process = start_nginx(work, out, port)
    fail = Failures()
    checked = 0
    try:
        def answers(paths, want, when):
            nonlocal checked
            for path in paths:
                status, _, _ = get(port, path, {"Accept-Encoding": "identity"})
                checked += 1
                fail.check(status == want, f"{when}: {path} answered {status}, expected {want}")

        answers(build1, 200, "build 1")
        # Build 2 changes a stylesheet, a script and an image: their build-1 names go out of the manifest.
        for name in ("css/site.css", "js/app.js"):
            with open(os.path.join(src, name), "a") as f:
                f.write("\n/* build 2 */\n")
        shutil.copyfile(os.path.join(src, "img/greyscale.jpg"), os.path.join(src, "img/hero.jpg"))
        second = build()
        named = {path for path, o in served(second) if o}
        replaced = [p for p in build1 if p not in named]
        fail.check(len(replaced) >= 3, f"build 2 replaced only {replaced}")
        run([opts.cachet, "clean", out])  # default: keep 2 builds, and anything younger than 1h
        answers(build1, 200, "after build 2 and cachet clean")
        # Once the limits pass (here: set to nothing), what build 2 no longer names is gone.
        run([opts.cachet, "clean", out, "--keep", "0", "--age", "0"])
        answers(replaced, 404, "after the keep and age limits")
        answers([p for p in build1 if p in named], 200, "after the keep and age limits")
    finally:
        stop(process)
    return fail.report("deploy", checked)


# --- Caddy -----------------------------------------------------------------------------------

CADDYFILE = """{{
    admin off
    auto_https off
    storage file_system {work}/caddy-data
}}

http://127.0.0.1:{port} {{
    root * {root}
    import {work}/cachet.caddy
}}
"""


def start_caddy(work, root, port):
    """Caddy serving root on 127.0.0.1:port with work/cachet.caddy imported, its state in work."""
    os.makedirs(work, exist_ok=True)
    caddyfile = os.path.join(work, "Caddyfile")
    with open(caddyfile, "w") as f:
        f.write(CADDYFILE.format(work=work, port=port, root=root))
    log = os.path.join(work, "caddy.log")
    env = dict(os.environ, HOME=work, XDG_DATA_HOME=work, XDG_CONFIG_HOME=work)
    process = subprocess.Popen(["/usr/bin/caddy", "run", "--config", caddyfile, "--adapter", "caddyfile"],
                               stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, process, log)
    except BaseException:
        stop(process)
        raise
    return process


def echoed(result):
    """Passes on a driver's output; its exit code."""
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


def check_caddy(opts, work):
    out, manifest = build_site(opts, work, config_text=CONFIG + WITH_JXL)
    export(opts, out, "caddy", os.path.join(work, "cachet.caddy"))
    port = free_port()
    process = start_caddy(work, out, port)
    fail = Failures()
    try:
        checked = check_server(port, out, manifest, ["zstd", "br", "gzip"], ["zstd", "br", "gzip"], True, fail)
        checked += check_negotiation(port, out, manifest, fail, jxl=True)  # on by default
        # A folder URL gets its index page's headers.
        status, headers, body = get(port, "/", {"Accept-Encoding": "identity"})
        index = next(o for url, o in served(manifest) if url == "/index.html")
        fail.check(status == 200 and body == file_bytes(out, "index.html"), f"/: status {status}, not index.html")
        fail.check(headers.get("Cache-Control") == index["cache_control"], f"/: Cache-Control {headers.get('Cache-Control')!r}")
        checked += 2
    finally:
        stop(process)
    return fail.report("caddy", checked)


# --- S3 (s3rver) and the aws CLI -------------------------------------------------------------

def check_s3(opts, work):
    out, manifest = build_site(opts, work)
    plan = os.path.join(work, "upload.sh")
    export(opts, out, "s3", plan)
    port = free_port()
    log = os.path.join(work, "s3rver.log")
    store = os.path.join(work, "s3")
    os.makedirs(store)
    s3rver = os.path.join(opts.node_modules, "s3rver", "bin", "s3rver.js")
    process = subprocess.Popen(["node", s3rver, "--address", "127.0.0.1", "--port", str(port), "--directory", store,
                                "--configure-bucket", "site", "--silent"],
                               stdout=open(log, "w"), stderr=subprocess.STDOUT)
    fail = Failures()
    checked = 0
    try:
        wait_for_port(port, process, log)
        env = dict(os.environ, HOME=work, AWS=opts.aws, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER",
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.path.join(work, "aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "aws-credentials"), AWS_EC2_METADATA_DISABLED="true",
                   AWS_PAGER="")
        run(["sh", plan, "s3://site/", "--endpoint-url", f"http://127.0.0.1:{port}"], env=env)
        # The grouped plan (include filters) uploads exactly the manifest's objects: no more.
        listing = subprocess.run([opts.aws, "s3", "ls", "--recursive", "s3://site/", "--endpoint-url",
                                  f"http://127.0.0.1:{port}"], env=env, capture_output=True, text=True, check=True)
        stored = {line.split(None, 3)[3] for line in listing.stdout.splitlines() if line.strip()}
        expected = set()
        for url, o in served(manifest):
            expected.add(url.lstrip("/"))
            expected.update(e["path"] for e in (o or {}).get("encodings", []))
        checked += 1
        fail.check(stored == expected, f"the bucket holds {sorted(stored - expected)[:5]} more and "
                                       f"{sorted(expected - stored)[:5]} fewer objects than the manifest names")
        for url, o in served(manifest):
            objects = [(url, o["content_type"] if o else "application/json; charset=utf-8", None)]
            for e in (o or {}).get("encodings", []):
                objects.append(("/" + e["path"], o["content_type"], e["encoding"]))
            for key, content_type, encoding in objects:
                expected_cc = o["cache_control"] if o else "no-cache"
                for method in ("HEAD", "GET"):
                    status, headers, body = get(port, "/site" + key, {"Accept-Encoding": "identity"}, method)
                    where = f"{method} s3://site{key}"
                    checked += 1
                    if not fail.check(status == 200, f"{where}: status {status}"):
                        continue
                    fail.check(headers.get("Content-Type") == content_type,
                               f"{where}: Content-Type {headers.get('Content-Type')!r}, manifest says {content_type!r}")
                    fail.check(headers.get("Content-Encoding") == encoding,
                               f"{where}: Content-Encoding {headers.get('Content-Encoding')!r}, expected {encoding!r}")
                    fail.check(headers.get("Cache-Control") == expected_cc,
                               f"{where}: Cache-Control {headers.get('Cache-Control')!r}, manifest says {expected_cc!r}")
                    want = file_bytes(out, key)
                    if method == "GET":
                        fail.check(body == want, f"{where}: {len(body)} bytes that are not the file's {len(want)}")
                        variant = next((e for e in (o or {}).get("encodings", []) if "/" + e["path"] == key), None)
                        fail.check(manifest_says(body, o, variant), f"{where}: the bytes are not those the manifest describes")
                    else:
                        fail.check(headers.get("Content-Length") == str(len(want)),
                                   f"{where}: Content-Length {headers.get('Content-Length')!r}, file has {len(want)}")
    finally:
        stop(process)
    return fail.report("s3", checked)


# --- Headless Chromium -----------------------------------------------------------------------

# Bundles the page runs and applies for real (the fixture's own reference files not rewritten
# yet): big enough for sidecars, so the browser may get them brotli-encoded.
CHECK_JS = "window.cachetScriptRan = (window.cachetScriptRan || 0) + 1;\n" + "".join(
    f"window.cachetPad{i} = 'integrity is checked on the decoded bytes';\n" for i in range(40))
CHECK_CSS = "body { --cachet-stylesheet: applied; outline-color: rgb(1, 2, 3); }\n" + "".join(
    f".cachet-pad-{i} {{ margin: {i}px; }}\n" for i in range(80))


def chromium(opts, work, url, profile, mode="test-page"):
    """Runs chromium.mjs on url with a fresh profile in work; its completed process."""
    driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chromium.mjs")
    env = dict(os.environ, NODE_PATH=opts.node_modules, HOME=work)
    return subprocess.run(["node", driver, url, os.path.join(work, profile), opts.node_modules, mode],
                          capture_output=True, text=True, env=env, timeout=300)


def check_report(opts, work):
    """cachet report on the fixture site, loaded in Chromium from a plain HTTP server on 127.0.0.1."""
    out = os.path.join(work, "out")
    run([opts.cachet, "build", os.path.join(opts.fixtures, "site"), "-o", out, "--no-cache", "-q"])
    page = os.path.join(work, "page")
    os.makedirs(page)
    run([opts.cachet, "report", out, "--src", os.path.join(opts.fixtures, "site"), "--file",
         os.path.join(page, "report.html")])
    port = free_port()
    log = os.path.join(work, "http.log")
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", page], stdout=open(log, "w"), stderr=subprocess.STDOUT)
    screenshot = os.path.join(tempfile.gettempdir(), "cachet-report-screenshot.png")
    try:
        wait_for_port(port, process, log)
        driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chromium.mjs")
        env = dict(os.environ, NODE_PATH=opts.node_modules, HOME=work, REPORT_SCREENSHOT=screenshot)
        result = subprocess.run(["node", driver, f"http://127.0.0.1:{port}/report.html",
                                 os.path.join(work, "report-profile"), opts.node_modules, "report"],
                                capture_output=True, text=True, env=env, timeout=300)
    finally:
        stop(process)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        return 1
    shown = json.loads(result.stdout.splitlines()[0])
    fail = Failures()
    manifest = json.load(open(os.path.join(out, "cachet-manifest.json")))
    images = [s for s, a in manifest["assets"].items() if a["kind"] == "image"]
    fail.check(shown["sections"] == len(images), f"{shown['sections']} sections for {len(images)} images")
    fail.check(shown["images"] >= 3 * len(images), f"{shown['images']} pictures for {len(images)} images")
    fail.check(len(shown["distances"]) >= 2 * len(images) - 2, f"only {len(shown['distances'])} distances")
    fail.check(0 < sorted(shown["distances"])[len(shown["distances"]) // 2] < 4,
               f"the median distance {sorted(shown['distances'])[len(shown['distances']) // 2]} is not plausible")
    fail.check(shown["texts"] == sum(1 for a in manifest["assets"].values() if a["kind"] == "text"),
               f"{shown['texts']} rows of texts")
    fail.check(shown["totals"].startswith(f"{len(images)} images: "), f"totals: {shown['totals']!r}")
    fail.check(os.path.getsize(screenshot) > 10000, "the screenshot is empty")
    print(f"report: screenshot of the page in {screenshot} ({os.path.getsize(screenshot)} bytes)")
    return fail.report("report", 7)


def check_chromium(opts, work):
    out, manifest = build_site(opts, work, {"js/check.js": CHECK_JS, "css/check.css": CHECK_CSS})
    export(opts, out, "nginx", os.path.join(work, "cachet.nginx"))
    # The test page: a <picture> per image (from `cachet picture`), every AVIF and WebP output
    # on its own, a stylesheet and module preloads with integrity, and a fetch() with
    # integrity of every other text output.
    pictures, direct, links, fetches = [], [], [], []
    for source, asset in sorted(manifest["assets"].items()):
        if asset["kind"] == "image":
            element = run([opts.cachet, "picture", source, "--manifest", os.path.join(out, "cachet-manifest.json")])
            pictures.append(element.replace('loading="lazy"', 'loading="eager"'))
            for o in asset["outputs"]:
                if o.get("format") in ("avif", "webp"):
                    direct.append(f'<img class="direct" data-format="{o["format"]}" src="/{o["path"]}" alt="">')
            continue
        for o in asset["outputs"]:
            url = "/" + o["path"]
            if o.get("original") and source in ("js/check.js", "css/check.css"):
                pass  # its own URL: fetched below, not run or applied twice
            elif source == "js/check.js":
                links.append(f'<script src="{url}" integrity="{o["integrity"]}" crossorigin="anonymous"></script>')
            elif source == "css/check.css":
                links.append(f'<link rel="stylesheet" href="{url}" integrity="{o["integrity"]}" crossorigin="anonymous">')
            elif o["path"].endswith(".css"):
                # Applied: cachet rewrote its font reference to the font's output.
                links.append(f'<link rel="stylesheet" href="{url}" integrity="{o["integrity"]}" crossorigin="anonymous">')
            elif o["path"].endswith(".js"):
                links.append(f'<link rel="modulepreload" href="{url}" integrity="{o["integrity"]}" crossorigin="anonymous">')
            if not o["path"].endswith(".html"):
                fetches.append({"url": url, "integrity": o["integrity"]})
    page = ("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>cachet</title>\n" + "\n".join(links) +
            "\n</head><body>\n" + "\n".join(pictures) + "\n" + "\n".join(direct) +
            f"\n<script>window.cachetFetches = {json.dumps(fetches)};</script>\n</body></html>\n")
    with open(os.path.join(out, "cachet-browser-test.html"), "w") as f:
        f.write(page)
    port = free_port()
    process = start_nginx(work, out, port)
    try:
        result = chromium(opts, work, f"http://127.0.0.1:{port}/cachet-browser-test.html", "chromium-profile")
    finally:
        stop(process)
    if echoed(result) != 0:
        return result.returncode
    result = check_chromium_fixture(opts, work)
    if result != 0:
        return result
    return check_chromium_site(opts, work)


def check_chromium_fixture(opts, work):
    """fixtures/site built with the defaults and served by nginx with the default export: the
    page works as the original does (its script runs, fetching and loading by URLs it builds;
    `.card > img` matches), visitors get AVIF, and the og:image URL answers with an image."""
    out = os.path.join(work, "fixture-out")
    run([opts.cachet, "build", os.path.join(opts.fixtures, "site"), "-o", out, "--no-cache", "-q"])
    export(opts, out, "nginx", os.path.join(work, "fixture.nginx"))
    port = free_port()
    process = start_nginx(work, out, port, include="fixture.nginx")
    try:
        result = chromium(opts, work, f"http://127.0.0.1:{port}/index.html", "fixture-profile", "fixture")
        status, headers, body = get(port, "/img/hero.jpg", {"Accept": "*/*"})  # the og:image
    finally:
        stop(process)
    if echoed(result) != 0:
        return result.returncode
    if status != 200 or headers.get("Content-Type") != "image/jpeg" or not body.startswith(b"\xff\xd8"):
        sys.stderr.write(f"chromium: the og:image URL /img/hero.jpg answered {status} {headers.get('Content-Type')}\n")
        return 1
    print("chromium: the og:image URL /img/hero.jpg answers with a JPEG")
    return 0


def check_chromium_site(opts, work):
    """fixtures/refs as cachet rewrites it (with html.integrity and html.picture), served by
    nginx: each page loads whole in Chromium, integrity checks passing. Then one byte of the
    stylesheet is changed, and the page must fail."""
    out = os.path.join(work, "refs-out")
    config = os.path.join(work, "refs.toml")
    with open(config, "w") as f:
        f.write("[html]\nintegrity = true\npicture = true\n[images]\nwidths = [100]\n")
    run([opts.cachet, "build", os.path.join(opts.fixtures, "refs"), "-o", out, "--no-cache", "-q", "--config", config])
    with open(os.path.join(out, "cachet-manifest.json")) as f:
        manifest = json.load(f)
    export(opts, out, "nginx", os.path.join(work, "refs.nginx"))

    def load(port, page, profile):
        return chromium(opts, work, f"http://127.0.0.1:{port}/{page}", profile, "site")

    port = free_port()
    process = start_nginx(work, out, port, include="refs.nginx")
    try:
        for page in ("index.html", "blog/post.html"):
            result = load(port, page, "refs-profile")
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            if result.returncode != 0:
                return result.returncode
        # The test can fail: a stylesheet whose bytes are not those its integrity names is blocked.
        css = manifest["assets"]["css/main.css"]["outputs"][0]
        path = os.path.join(out, css["path"])
        with open(path, "rb") as f:
            data = bytearray(f.read())
        data[-2] ^= 0x01
        with open(path, "wb") as f:
            f.write(bytes(data))
        for e in css.get("encodings", []):
            os.remove(os.path.join(out, e["path"]))
        result = load(port, "index.html", "refs-profile-altered")
    finally:
        stop(process)
    if result.returncode == 0 or "integrity" not in result.stderr:
        sys.stderr.write("chromium: a stylesheet altered after the build was not blocked by its integrity:\n" +
                         result.stdout + result.stderr)
        return 1
    print("chromium: an altered stylesheet is blocked by its integrity attribute, as it must be")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("program", choices=["nginx", "caddy", "s3", "chromium", "deploy", "report"])
    parser.add_argument("--cachet", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--node-modules", required=True)
    parser.add_argument("--aws", default="/usr/bin/aws")
    opts = parser.parse_args()
    opts.cachet = os.path.abspath(opts.cachet)
    opts.node_modules = os.path.abspath(opts.node_modules)
    work = tempfile.mkdtemp(prefix=f"cachet-{opts.program}-")
    try:
        checks = {"nginx": check_nginx, "caddy": check_caddy, "s3": check_s3, "chromium": check_chromium, "report": check_report,
                  "deploy": check_deploy}
        return checks[opts.program](opts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
