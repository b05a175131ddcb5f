#!/usr/bin/python3
"""The shared remote cache and sharded builds, against real servers on 127.0.0.1.

    remote.py nginx|faults|s3|shards --cachet BIN --fixtures DIR [--node-modules DIR]

nginx   nginx from Debian with WebDAV as the team cache: a first build uploads; a second build
        on another "machine" (another checkout path, an empty local cache) encodes nothing and
        gives byte-identical OUT and manifest; every blob on the server has the bytes of its
        digest; read-only uploads nothing; a 403 on PUT stops uploads, not the build.
faults  a server not listening, one answering 500, one that accepts and never answers, one
        whose disk is full (507 on PUT), a blob altered on the server, a job result whose blob
        was deleted: every build succeeds with the outputs of a build without a remote cache,
        and its counters say what happened.
s3      s3rver as the S3 backend (requests signed with AWS SigV4 by libcurl): the same as nginx.
shards  4 shards of a generated site run at once against one nginx cache, then the final build:
        zero images encoded, and OUT and manifest byte-identical to a one-machine build.

Exits 0 when every check holds, 1 with the failures listed otherwise.
"""
import argparse
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import json
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Failures, free_port, wait_for_port, stop, read  # noqa: E402

# The longest any build here may take: a guard against a hang, not a measure of speed.
BUILD_GUARD_S = 300


def tree(folder):
    """{relative path: sha256} of every file under folder."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def build(opts, src, out, cache, remote=(), extra=(), env=None, expect_exit=0):
    """Runs cachet build --json; returns its summary (the process must exit expect_exit)."""
    args = [opts.cachet, "build", src, "-o", out, "--cache-dir", cache, "--json", "-q", "-j", "2"]
    for url in remote:
        args += ["--remote-cache", url]
    args += list(extra)
    result = subprocess.run(args, capture_output=True, text=True, timeout=BUILD_GUARD_S,
                            env=dict(os.environ, **(env or {})))
    if result.returncode != expect_exit:
        raise SystemExit(f"{' '.join(args)} exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout), result.stderr


def images_built(summary):
    return summary["kinds"].get("image", {}).get("built", 0)


def checkout(opts, work, name):
    """A copy of fixtures/site at another path: another machine's checkout."""
    path = os.path.join(work, name, "site")
    shutil.copytree(os.path.join(opts.fixtures, "site"), path)
    return path


def reference(opts, work, src):
    """OUT of a one-machine build without a remote cache, as the tree to compare with."""
    out = os.path.join(work, "reference-out")
    build(opts, src, out, os.path.join(work, "reference-cache"))
    return tree(out)


def same_tree(fail, got, want, what):
    if got == want:
        return True
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(p for p in set(got) & set(want) if got[p] != want[p])
    fail.check(False, f"{what}: OUT differs from the one-machine build: missing {missing[:5]}, extra {extra[:5]}, "
                      f"different bytes {differ[:5]}")
    return False


# --- nginx with WebDAV ------------------------------------------------------------------------

NGINX_CONF = """
user root;
daemon off;
worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        client_max_body_size 0;
        # The team cache: GET, HEAD and PUT of /cache/ac/... and /cache/cas/... (README).
        location /cache/ {{
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
        location /readonly/ {{
            limit_except GET HEAD {{ deny all; }}
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, work):
        self.work = os.path.join(work, "nginx")
        self.root = os.path.join(self.work, "root")
        os.makedirs(os.path.join(self.root, "cache"))
        os.makedirs(os.path.join(self.root, "readonly"))
        self.port = free_port()
        conf = os.path.join(self.work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(work=self.work, port=self.port, root=self.root))
        self.log = os.path.join(self.work, "nginx-error.log")
        self.process = subprocess.Popen(["nginx", "-c", conf, "-e", self.log], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.log)

    def url(self, path="cache"):
        return f"http://127.0.0.1:{self.port}/{path}"

    def files(self, space):
        folder = os.path.join(self.root, "cache", space)
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def path(self, space, name):
        return os.path.join(self.root, "cache", space, name)

    def stop(self):
        stop(self.process)


def action_result_digests(data):
    """The (hash, size) pairs of an ActionResult's output_files and stdout_digest: a small
    protobuf reader, so the test checks the wire format independently of cachet's own."""
    def fields(buf):
        at = 0
        while at < len(buf):
            tag, at = varint(buf, at)
            number, kind = tag >> 3, tag & 7
            if kind == 0:
                value, at = varint(buf, at)
                yield number, value
            elif kind == 2:
                n, at = varint(buf, at)
                yield number, buf[at:at + n]
                at += n
            else:
                raise ValueError(f"wire type {kind}")

    def varint(buf, at):
        value = shift = 0
        while True:
            b = buf[at]
            at += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value, at

    def digest(buf):
        d = dict(fields(buf))
        return d[1].decode(), d.get(2, 0)

    out = []
    for number, value in fields(data):
        if number == 2:  # output_files
            f = dict(fields(value))
            out.append((f[1].decode(), digest(f[2])))
        elif number == 6:  # stdout_digest: cachet's record of the job
            out.append(("", digest(value)))
    return out


def check_nginx(opts, work):
    fail = Failures()
    first_src = checkout(opts, work, "machine-1")
    second_src = checkout(opts, work, "machine-2")
    want = reference(opts, work, first_src)
    nginx = Nginx(work)
    try:
        # Machine 1 builds and uploads.
        out1 = os.path.join(work, "machine-1", "out")
        s1, _ = build(opts, first_src, out1, os.path.join(work, "machine-1", "cache"), [nginx.url()])
        r1 = s1["remote_cache"]
        fail.check(images_built(s1) > 0, "machine 1 built no image")
        fail.check(r1["uploads"] > 0 and r1["bytes_up"] > 0, f"machine 1 uploaded nothing: {r1}")
        fail.check(r1["errors"] == 0 and r1["timeouts"] == 0, f"machine 1 had errors: {r1}")
        same_tree(fail, tree(out1), want, "machine 1")
        # The server's blobs have the bytes of their digests; every job result names blobs there.
        blobs = nginx.files("cas")
        results = nginx.files("ac")
        fail.check(len(blobs) > 0 and len(results) > 0, f"the server holds {len(blobs)} blobs, {len(results)} results")
        for name in blobs:
            with open(nginx.path("cas", name), "rb") as f:
                fail.check(hashlib.sha256(f.read()).hexdigest() == name, f"cas/{name} does not have its digest's bytes")
        for name in results:
            with open(nginx.path("ac", name), "rb") as f:
                for path, (sha, size) in action_result_digests(f.read()):
                    fail.check(sha in blobs and os.path.getsize(nginx.path("cas", sha)) == size,
                               f"ac/{name} names {path or 'its record'} as cas/{sha} ({size} bytes), not on the server")
        # Machine 2: another checkout path, an empty local cache: nothing encoded, same bytes.
        out2 = os.path.join(work, "machine-2", "out")
        s2, _ = build(opts, second_src, out2, os.path.join(work, "machine-2", "cache"), [nginx.url()])
        r2 = s2["remote_cache"]
        fail.check(images_built(s2) == 0, f"machine 2 encoded {images_built(s2)} images")
        fail.check(r2["hits"] >= s2["kinds"]["image"]["assets"], f"machine 2's remote hits: {r2}")
        fail.check(r2["uploads"] == 0, f"machine 2 uploaded what it fetched: {r2}")
        same_tree(fail, tree(out2), want, "machine 2")
        stats = json.loads(subprocess.run([opts.cachet, "cache", "stats", "--json", "--cache-dir",
                                           os.path.join(work, "machine-2", "cache")],
                                          capture_output=True, text=True, check=True).stdout)
        fail.check(stats["last_build"]["remote"]["hits"] == r2["hits"], f"cache stats: {stats['last_build']}")
        # Machine 2 again: a local hit never touches the network.
        s2b, _ = build(opts, second_src, os.path.join(work, "machine-2", "out-b"),
                       os.path.join(work, "machine-2", "cache"), [nginx.url()])
        r2b = s2b["remote_cache"]
        fail.check(r2b["hits"] + r2b["misses"] + r2b["uploads"] == 0 and r2b["bytes_down"] == 0,
                   f"a build from a warm local cache asked the server: {r2b}")
        # Read-only: a third machine fetches nothing new and uploads nothing.
        ro_url = nginx.url("cache-ro")
        os.makedirs(os.path.join(nginx.root, "cache-ro"), exist_ok=True)
        s3, _ = build(opts, second_src, os.path.join(work, "machine-3", "out"), os.path.join(work, "machine-3", "cache"),
                      [ro_url], ["--remote-read-only"])
        fail.check(s3["remote_cache"]["uploads"] == 0 and not os.listdir(os.path.join(nginx.root, "cache-ro")),
                   f"read-only uploaded: {s3['remote_cache']}")
        # A 403 on PUT (a server that only lets this client read): the build goes on, uploads stop.
        s4, _ = build(opts, second_src, os.path.join(work, "machine-4", "out"), os.path.join(work, "machine-4", "cache"),
                      [nginx.url("readonly")])
        r4 = s4["remote_cache"]
        # (Uploads run on -j threads: a PUT already in flight when the first 403 came gets its
        # own 403, and counts as an error too; none starts after it.)
        fail.check(1 <= r4["errors"] <= (os.cpu_count() or 1) and r4["uploads"] == 0 and
                   any("403" in p for p in r4["problems"]), f"a 403 on PUT: {r4}")
        same_tree(fail, tree(os.path.join(work, "machine-4", "out")), want, "after a 403")
        # Credentials in the URL are sent, never shown.
        s5, err5 = build(opts, second_src, os.path.join(work, "machine-5", "out"),
                         os.path.join(work, "machine-5", "cache"),
                         [f"http://cachet:s3cret-word@127.0.0.1:{nginx.port}/cache"],
                         env={"CACHET_REMOTE_CACHE_TOKEN": "t0ken-word"})
        shown = json.dumps(s5) + err5
        fail.check("s3cret-word" not in shown and "t0ken-word" not in shown, "a credential was printed")
        fail.check(s5["remote_cache"]["hits"] > 0, f"with credentials: {s5['remote_cache']}")
        with open(os.path.join(nginx.work, "nginx-access.log")) as f:
            fail.check("cachet" in f.read(), "nginx logged no request from cachet")
        # A watch session only reads the remote cache: GETs, never a PUT, whatever it builds.
        watch_src = checkout(opts, work, "machine-w")
        with open(os.path.join(watch_src, "css", "watch-only.css"), "w") as f:
            f.write("body { color: #123456; }\n")  # a file no build uploaded: built, and not uploaded
        access = os.path.join(nginx.work, "nginx-access.log")
        seen = os.path.getsize(access)
        watch = subprocess.Popen([opts.cachet, "watch", watch_src, "-o", os.path.join(work, "machine-w", "out"),
                                  "--cache-dir", os.path.join(work, "machine-w", "cache"), "--remote-cache",
                                  nginx.url()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            first = ""
            while "built" not in first:  # "cachet watch: ...: N built, ..." ends the first build
                first = watch.stderr.readline()
                if not first:
                    break
        finally:
            watch.send_signal(signal.SIGINT)
            watch.communicate(timeout=60)
        with open(access) as f:
            f.seek(seen)
            requests = f.read().splitlines()
        fail.check("built" in first, f"cachet watch printed {first!r}")
        fail.check(any('"GET /cache/' in r for r in requests), "cachet watch fetched nothing from the remote cache")
        fail.check(not any('"PUT ' in r for r in requests), "cachet watch uploaded to the remote cache")
        # The server named by the environment, then by the configuration file.
        s6, _ = build(opts, second_src, os.path.join(work, "machine-6", "out"),
                      os.path.join(work, "machine-6", "cache"), env={"CACHET_REMOTE_CACHE": nginx.url()})
        fail.check(s6["remote_cache"] and s6["remote_cache"]["hits"] > 0, f"$CACHET_REMOTE_CACHE: {s6['remote_cache']}")
        config = os.path.join(work, "cachet.toml")
        with open(config, "w") as f:
            f.write(f'[cache]\nremote = ["{nginx.url()}|weight=2"]\nremote_timeout = "5s"\n')
        s7, _ = build(opts, second_src, os.path.join(work, "machine-7", "out"),
                      os.path.join(work, "machine-7", "cache"), extra=["--config", config])
        fail.check(s7["remote_cache"] and s7["remote_cache"]["hits"] > 0, f"[cache] remote: {s7['remote_cache']}")
        s8, _ = build(opts, second_src, os.path.join(work, "machine-8", "out"),
                      os.path.join(work, "machine-8", "cache"), extra=["--config", config, "--no-remote-cache"])
        fail.check(s8["remote_cache"] is None, f"--no-remote-cache: {s8['remote_cache']}")
    finally:
        nginx.stop()
    return fail.report("remote cache on nginx WebDAV", 21 + len(nginx.files("cas")))


# --- faults -----------------------------------------------------------------------------------

class FaultServer:
    """An HTTP server that misbehaves in one way: "500" answers 500 to everything, "hang"
    accepts connections and never answers, "full" answers GET with 404 and PUT with 507; or
    "record": keeps every request (method, path, headers, body), answers GET 404 and PUT 200."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.recorded = []
        self.held = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        if self.mode == "hang":
            self.held.append(conn)  # never answered, never closed while the test runs
            return
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split(" ")[0]
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                while len(buf) < length:
                    buf += conn.recv(65536)
                body, buf = buf[:length], buf[length:]
                self.requests += 1
                if self.mode == "record":
                    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
                    self.recorded.append((method, lines[0].split(" ")[1], headers, body))
                if self.mode == "record":
                    status = "200 OK" if method == "PUT" else "404 Not Found"
                elif self.mode == "500":
                    status = "500 Internal Server Error"
                elif method == "PUT":
                    status = "507 Insufficient Storage"
                else:
                    status = "404 Not Found"
                conn.sendall(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode())
        except OSError:
            pass
        finally:
            if self.mode != "hang":
                conn.close()

    def url(self):
        return f"http://127.0.0.1:{self.port}/cache"

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def check_faults(opts, work):
    fail = Failures()
    src = checkout(opts, work, "machine")
    want = reference(opts, work, src)
    case = [0]

    def faulty_build(what, urls, extra=()):
        case[0] += 1
        out = os.path.join(work, f"case-{case[0]}", "out")
        summary, _ = build(opts, src, out, os.path.join(work, f"case-{case[0]}", "cache"), urls, extra)
        same_tree(fail, tree(out), want, what)
        return summary["remote_cache"]

    # Not listening: the port of a socket just closed.
    r = faulty_build("a server not listening", [f"http://127.0.0.1:{free_port()}/cache"])
    fail.check(r["errors"] >= 1 and r["hits"] == 0 and r["problems"], f"not listening: {r}")
    for mode, what in (("500", "a server answering 500"), ("full", "a server with a full disk (507 on PUT)"),
                       ("hang", "a server that never answers")):
        server = FaultServer(mode)
        try:
            extra = ["--remote-timeout", "1s"] if mode == "hang" else []
            r = faulty_build(what, [server.url()], extra)
        finally:
            server.close()
        if mode == "hang":
            fail.check(r["timeouts"] >= 1 and r["errors"] == 0, f"{what}: {r}")
        else:
            fail.check(r["errors"] >= 1 and r["timeouts"] == 0, f"{what}: {r}")
            # The first error turns the server off: a handful of requests (one per worker), not one per job.
            fail.check(server.requests <= 4, f"{what}: {server.requests} requests after the first error")
        if mode == "full":
            fail.check(any("507" in p for p in r["problems"]), f"{what}: problems {r['problems']}")
    # Damage on a real server: an altered blob, and a job result whose blob is gone.
    nginx = Nginx(work)
    try:
        first = faulty_build("filling the cache", [nginx.url()])
        fail.check(first["uploads"] > 0, f"nothing uploaded: {first}")
        blobs = nginx.files("cas")
        largest = sorted(blobs, key=lambda b: os.path.getsize(nginx.path("cas", b)))[-1]
        with open(nginx.path("cas", largest), "r+b") as f:
            data = bytearray(f.read())
            data[len(data) // 2] ^= 0xFF
            f.seek(0)
            f.write(data)
        r = faulty_build("an altered blob", [nginx.url()])
        fail.check(r["damaged"] >= 1 and r["misses"] >= 1 and r["errors"] == 0, f"an altered blob: {r}")
        # (that build uploaded the blob again: alter nothing more, delete another)
        second = sorted(blobs, key=lambda b: os.path.getsize(nginx.path("cas", b)))[-2]
        os.remove(nginx.path("cas", second))
        r = faulty_build("a job result whose blob was deleted", [nginx.url()])
        fail.check(r["misses"] >= 1 and r["errors"] == 0, f"a deleted blob: {r}")
        # A job result that is not one: garbage under ac/.
        results = nginx.files("ac")
        for name in results:
            with open(nginx.path("ac", name), "wb") as f:
                f.write(b"\xff\xfe garbage, not a protobuf")
        r = faulty_build("garbage job results", [nginx.url()])
        fail.check(r["damaged"] >= len(results) and r["hits"] == 0, f"garbage results: {r}")
    finally:
        nginx.stop()
    return fail.report("remote cache faults", 9 * 2 + 6)


# --- S3 (s3rver) ------------------------------------------------------------------------------

def check_s3(opts, work):
    fail = Failures()
    first_src = checkout(opts, work, "machine-1")
    second_src = checkout(opts, work, "machine-2")
    want = reference(opts, work, first_src)
    port = free_port()
    log = os.path.join(work, "s3rver.log")
    store = os.path.join(work, "s3")
    os.makedirs(store)
    s3rver = os.path.join(opts.node_modules, "s3rver", "bin", "s3rver.js")
    process = subprocess.Popen(["node", s3rver, "--address", "127.0.0.1", "--port", str(port), "--directory", store,
                                "--configure-bucket", "team-cache", "--silent"],
                               stdout=open(log, "w"), stderr=subprocess.STDOUT)
    env = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER", "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    url = "s3://team-cache/cachet"
    try:
        wait_for_port(port, process, log)
        out1 = os.path.join(work, "machine-1", "out")
        s1, _ = build(opts, first_src, out1, os.path.join(work, "machine-1", "cache"), [url], env=env)
        r1 = s1["remote_cache"]
        fail.check(r1["uploads"] > 0 and r1["errors"] == 0 and r1["timeouts"] == 0, f"machine 1: {r1}")
        same_tree(fail, tree(out1), want, "machine 1")
        out2 = os.path.join(work, "machine-2", "out")
        s2, err = build(opts, second_src, out2, os.path.join(work, "machine-2", "cache"), [url], env=env)
        r2 = s2["remote_cache"]
        fail.check(images_built(s2) == 0, f"machine 2 encoded {images_built(s2)} images: {r2}")
        fail.check(r2["hits"] >= s2["kinds"]["image"]["assets"] and r2["errors"] == 0, f"machine 2: {r2}")
        same_tree(fail, tree(out2), want, "machine 2")
        fail.check("S3RVER" not in json.dumps(s2) + err, "an AWS key was printed")
        # An unknown key: the server refuses (403), the build goes on without it.
        s3, _ = build(opts, second_src, os.path.join(work, "machine-3", "out"), os.path.join(work, "machine-3", "cache"),
                      [url], env=dict(env, AWS_ACCESS_KEY_ID="UNKNOWN"))
        r3 = s3["remote_cache"]
        fail.check(r3["hits"] == 0 and r3["errors"] >= 1, f"an unknown key: {r3}")
        same_tree(fail, tree(os.path.join(work, "machine-3", "out")), want, "an unknown key")
        # No credentials at all (a fork's pull request): no request, a clear problem.
        no_keys = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        no_keys["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"]
        args = [opts.cachet, "build", second_src, "-o", os.path.join(work, "machine-4", "out"), "--cache-dir",
                os.path.join(work, "machine-4", "cache"), "--json", "-q", "--remote-cache", url]
        result = subprocess.run(args, capture_output=True, text=True, timeout=BUILD_GUARD_S, env=no_keys)
        fail.check(result.returncode == 0, f"without AWS keys: exit {result.returncode}: {result.stderr}")
        if result.returncode == 0:
            r4 = json.loads(result.stdout)["remote_cache"]
            fail.check(any("AWS_ACCESS_KEY_ID" in p for p in r4["problems"]), f"without AWS keys: {r4}")
    finally:
        stop(process)
    if fail.items:
        print(read(log)[-3000:], file=sys.stderr)
    check_signatures(opts, work, fail)
    return fail.report("remote cache on s3rver", 13)


def sigv4_problem(request, secret, region):
    """Why request's AWS Signature Version 4 is wrong, or None: computed here from the
    specification, independently of libcurl (s3rver does not check V4 signatures)."""
    import hmac
    method, path, header_list, body = request
    headers = {}
    for name, value in header_list:
        headers[name.lower()] = " ".join(value.split())
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return f"{method} {path}: Authorization {auth[:40]!r} is not SigV4"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, scope_region, service, terminal = parts["Credential"].split("/")
    payload = headers.get("x-amz-content-sha256")
    if payload != hashlib.sha256(body).hexdigest():
        return f"{method} {path}: x-amz-content-sha256 {payload} is not the body's digest"
    if (scope_region, service, terminal) != (region, "s3", "aws4_request"):
        return f"{method} {path}: credential scope {parts['Credential']}"
    signed = parts["SignedHeaders"].split(";")
    for needed in ("host", "x-amz-date", "x-amz-content-sha256"):
        if needed not in signed:
            return f"{method} {path}: {needed} is not signed ({signed})"
    canonical = "\n".join([method, path.split("?")[0], "",
                           "".join(f"{h}:{headers.get(h, '')}\n" for h in signed), ";".join(signed), payload])
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers["x-amz-date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    want = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if parts["Signature"] != want:
        return f"{method} {path}: signature {parts['Signature']}, the specification gives {want}"
    return None


def check_signatures(opts, work, fail):
    """A build against a recording server as its S3 endpoint: every request it made carries a
    SigV4 signature that the specification's computation agrees with."""
    recorder = FaultServer("record")
    src = checkout(opts, work, "signed")
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
           "AWS_REGION": "eu-west-3", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{recorder.port}"}
    try:
        s, _ = build(opts, src, os.path.join(work, "signed", "out"), os.path.join(work, "signed", "cache"),
                     ["s3://bucket/prefix"], env=env)
    finally:
        recorder.close()
    methods = {r[0] for r in recorder.recorded}
    fail.check(methods == {"GET", "PUT"}, f"the recorder saw {methods}: {s['remote_cache']}")
    problems = [p for p in (sigv4_problem(r, env["AWS_SECRET_ACCESS_KEY"], "eu-west-3") for r in recorder.recorded) if p]
    fail.check(not problems, f"{len(problems)} of {len(recorder.recorded)} requests badly signed: {problems[:3]}")
    fail.check(all(r[1].startswith("/bucket/prefix/") for r in recorder.recorded), "a request outside the prefix")


# --- shards -----------------------------------------------------------------------------------

def png(width, height, seed):
    """A small RGB PNG whose pixels depend on seed (each a different image)."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            row += bytes(((x * 7 + seed * 13) % 256, (y * 5 + seed * 29) % 256, ((x ^ y) + seed * 3) % 256))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def generated_site(opts, folder, images):
    """fixtures/site plus `images` generated images, named by a stylesheet and a page each, so
    that texts refer to images of every shard."""
    shutil.copytree(os.path.join(opts.fixtures, "site"), folder)
    os.makedirs(os.path.join(folder, "gen"))
    css = []
    page = ["<!doctype html><html><head><link rel=stylesheet href=gen/all.css></head><body>"]
    for i in range(images):
        with open(os.path.join(folder, "gen", f"tile-{i:03}.png"), "wb") as f:
            f.write(png(24 + i % 7, 16 + i % 5, i))
        css.append(f".t{i} {{ background: url(tile-{i:03}.png); }}")
        page.append(f'<img src="gen/tile-{i:03}.png" alt="">')
    page.append("</body></html>")
    with open(os.path.join(folder, "gen", "all.css"), "w") as f:
        f.write("\n".join(css) + "\n")
    with open(os.path.join(folder, "gallery.html"), "w") as f:
        f.write("\n".join(page) + "\n")


def check_shards(opts, work):
    fail = Failures()
    count = 4
    src = os.path.join(work, "site")
    generated_site(opts, src, 24)
    # The one-machine build to compare with (no remote cache).
    single = os.path.join(work, "single")
    s0, _ = build(opts, src, single, os.path.join(work, "single-cache"))
    want = tree(single)
    nginx = Nginx(work)
    try:
        # The shards, at once, each on its own "machine" (checkout, local cache, OUT); the last
        # one finds its share from a Kubernetes Indexed Job's environment.
        processes = []
        for i in range(1, count + 1):
            machine = os.path.join(work, f"shard-{i}")
            shutil.copytree(src, os.path.join(machine, "site"))
            args = [opts.cachet, "build", os.path.join(machine, "site"), "-o", os.path.join(machine, "out"),
                    "--cache-dir", os.path.join(machine, "cache"), "--remote-cache", nginx.url(), "--json", "-q",
                    "-j", "1"]
            env = dict(os.environ)
            if i == count:
                env.update(JOB_COMPLETION_INDEX=str(i - 1), CACHET_SHARD_COUNT=str(count))
            else:
                args += ["--shard", f"{i}/{count}"]
            processes.append((i, subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                                  env=env)))
        built = 0
        for i, p in processes:
            stdout, stderr = p.communicate(timeout=BUILD_GUARD_S)
            if not fail.check(p.returncode == 0, f"shard {i} exited with {p.returncode}: {stderr}"):
                continue
            summary = json.loads(stdout)
            fail.check(summary["shard"] == {"index": i, "count": count, "left_to_others": summary["shard"]["left_to_others"]},
                       f"shard {i}: {summary['shard']}")
            built += images_built(summary)
            partial = os.path.join(work, f"shard-{i}", "out", f"cachet-manifest.shard-{i}-of-{count}.json")
            fail.check(os.path.exists(partial), f"shard {i} wrote no partial manifest")
            fail.check(not os.path.exists(os.path.join(work, f"shard-{i}", "out", "cachet-manifest.json")),
                       f"shard {i} wrote a whole-site manifest")
            if os.path.exists(partial):
                with open(partial) as f:
                    names = json.load(f)["assets"].keys()
                fail.check(all(n.endswith(".png") or n.endswith(".jpg") or n.split(".")[-1] in
                               ("png", "jpg", "jpeg", "gif", "webp", "avif", "tif", "tiff") for n in names),
                           f"shard {i}'s partial manifest names a text: {sorted(names)[:5]}")
        fail.check(built == images_built(s0), f"the shards built {built} images, a one-machine build {images_built(s0)}")
        # The final build: another machine, an empty local cache.
        final_src = os.path.join(work, "final", "site")
        shutil.copytree(src, final_src)
        final = os.path.join(work, "final", "out")
        s, _ = build(opts, final_src, final, os.path.join(work, "final", "cache"), [nginx.url()])
        fail.check(images_built(s) == 0, f"the final build encoded {images_built(s)} images: {s['remote_cache']}")
        same_tree(fail, tree(final), want, "the final build")
    finally:
        nginx.stop()
    return fail.report("sharded build", 4 * 4 + 3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("check", choices=["nginx", "faults", "s3", "shards"])
    parser.add_argument("--cachet", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--node-modules", default="")
    opts = parser.parse_args()
    opts.cachet = os.path.abspath(opts.cachet)
    work = tempfile.mkdtemp(prefix=f"cachet-remote-{opts.check}-")
    try:
        check = {"nginx": check_nginx, "faults": check_faults, "s3": check_s3, "shards": check_shards}[opts.check]
        return check(opts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
