#!/usr/bin/env python3
"""Records the registry metadata of the resolution cases, and what the real
installers resolved from it, at the same moment.

A recording proxy on 127.0.0.1 forwards to the public registries and keeps
every answer it gives (trimmed the same way for every client, see below).
For each case directory (a manifest in `manifest/`), the real tool runs
against the proxy:

  npm   npm install --package-lock-only            -> expected/package-lock.json
  pypi  pip install --dry-run --report ... --platform manylinux2014_x86_64
        --python-version 3.12 --only-binary=:all: --target ... -r requirements.txt
                                                   -> expected/pip-report.json
  cargo cargo generate-lockfile                    -> expected/Cargo.lock

then `depwarden resolve --online` runs against the same proxy, so the
documents it asks for are recorded too. A case with a `before` file (a
time) is resolved again with that cutoff, by the installer (`npm
--before`, `pip --uploaded-prior-to`) into `expected/before/` and by
depwarden. The answers go to
`<case>/registry.jsonl.gz` (one `{"path", "body"}` line per request path);
`<case>/cutoff` holds the time of recording (the tests resolve with that
cutoff, offline, from a loopback server that serves those answers).

Trimming (to keep the data small; every client sees the same trimmed
answer): npm packuments keep only the fields installers read (no
integrity hashes); PyPI project pages keep the files of the 40 newest
versions (every version in a case with an `untrimmed` file), without
Windows and macOS wheels and without hashes; crates.io index files are kept whole. Wheel metadata (PEP 658)
comes from the `.metadata` file, or from the wheel itself when the index
has none.

Usage: python3 testdata/resolve/record.py [CASE_DIR...]   (default: every case)
Needs npm, cargo, and a pip >= 23 (PIP env var, default `pip`), and a built
depwarden (DEPWARDEN env var, default target/debug/depwarden).
"""

import gzip
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

NPM = "https://registry.npmjs.org/"
PYPI = "https://pypi.org/simple/"
CRATES = "https://index.crates.io/"
KEEP_VERSIONS = 40
HERE = os.path.dirname(os.path.abspath(__file__))

NPM_FIELDS = [
    "name", "version", "dependencies", "optionalDependencies", "peerDependencies",
    "peerDependenciesMeta", "bundleDependencies", "bundledDependencies", "os", "cpu",
    "libc", "engines", "deprecated", "bin", "hasInstallScript", "license",
]


def fetch(url, accept="*/*"):
    req = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "depwarden-recorder"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def semver_key(v):
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)(?:-([^+]*))?", v)
    if not m:
        return (0, 0, 0, 0, v)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if m.group(4) else 1, m.group(4) or "")


def trim_npm(body):
    doc = json.loads(body)
    versions = doc.get("versions", {})
    tags = doc.get("dist-tags", {})
    times = doc.get("time", {})
    keep = set(versions)
    out_versions = {}
    for v in sorted(keep, key=semver_key):
        m = versions[v]
        slim = {k: m[k] for k in NPM_FIELDS if k in m}
        dist = m.get("dist", {})
        slim["dist"] = {k: dist[k] for k in ("tarball",) if k in dist}
        out_versions[v] = slim
    out = {
        "name": doc.get("name"),
        "dist-tags": tags,
        "versions": out_versions,
        "time": {v: times[v] for v in out_versions if v in times},
    }
    return json.dumps(out, separators=(",", ":"), sort_keys=True).encode()


def foreign_wheel(filename):
    if not filename.endswith(".whl"):
        return False
    plats = filename[:-4].split("-")[-1].split(".")
    return all(p.startswith(("win", "macosx", "ios")) for p in plats)


def file_version(filename, project):
    stem = re.sub(r"\.(whl|tar\.gz|zip|tar\.bz2)$", "", filename)
    if filename.endswith(".whl"):
        return stem.split("-")[1]
    norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
    for i, c in enumerate(stem):
        if c == "-" and norm(stem[:i]) == project:
            return stem[i + 1:]
    return stem.rsplit("-", 1)[-1]


def trim_pypi(body, project):
    doc = json.loads(body)
    files = [f for f in doc.get("files", []) if not foreign_wheel(f["filename"])]
    newest = {}
    for f in files:
        v = file_version(f["filename"], project)
        newest[v] = max(newest.get(v, ""), f.get("upload-time") or "")
    keep = set(sorted(newest, key=lambda v: newest[v], reverse=True)[:RECORDER.keep])
    out_files = []
    for f in files:
        if file_version(f["filename"], project) not in keep:
            continue
        path = urllib.parse.urlsplit(f["url"]).path
        g = {k: f[k] for k in ("filename", "requires-python", "upload-time", "yanked") if k in f}
        g["hashes"] = {}
        g["url"] = "../../files" + path
        if f["filename"].endswith(".whl"):
            g["core-metadata"] = True
        out_files.append(g)
    out = {"meta": {"api-version": "1.1"}, "name": doc.get("name", project), "files": out_files}
    return json.dumps(out, separators=(",", ":")).encode()


def wheel_metadata(path):
    """The METADATA of a wheel on files.pythonhosted.org: its .metadata
    file, else the member read out of the downloaded wheel."""
    status, body = fetch("https://files.pythonhosted.org" + path + ".metadata")
    if status == 200:
        return body
    status, whl = fetch("https://files.pythonhosted.org" + path)
    if status != 200:
        return None
    with zipfile.ZipFile(io.BytesIO(whl)) as z:
        for n in z.namelist():
            parts = n.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return z.read(n)
    return None


class Recorder:
    def __init__(self):
        self.out = None
        self.keep = KEEP_VERSIONS
        self.lock = threading.Lock()

    def save(self, path, body):
        if self.out is None:
            return
        with self.lock:
            self.out[path] = body.decode("utf-8")

    def write(self, file):
        """One JSON line per answer, {"path", "body"}, gzip-compressed."""
        with gzip.open(file, "wt", encoding="utf-8", compresslevel=9) as f:
            for path in sorted(self.out):
                f.write(json.dumps({"path": path, "body": self.out[path]}, sort_keys=True) + "\n")

    def answer(self, path, port):
        """(status, body) for a proxied path, recorded on success."""
        if path.startswith("/npm/"):
            name = urllib.parse.unquote(path[len("/npm/"):])
            status, body = fetch(NPM + name.replace("/", "%2f"), "application/json")
            body = trim_npm(body) if status == 200 else b""
        elif path.startswith("/pypi/simple/"):
            project = path[len("/pypi/simple/"):].strip("/")
            status, body = fetch(PYPI + project + "/", "application/vnd.pypi.simple.v1+json")
            body = trim_pypi(body, project) if status == 200 else b""
        elif path.startswith("/pypi/files/") and path.endswith(".metadata"):
            body = wheel_metadata(path[len("/pypi/files"):-len(".metadata")])
            status = 200 if body is not None else 404
        elif path == "/crates/config.json":
            return 200, json.dumps({"dl": f"http://127.0.0.1:{port}/crates/dl"}).encode()
        elif path.startswith("/crates/"):
            status, body = fetch(CRATES + path[len("/crates/"):])
        else:
            return 404, b""
        if status == 200:
            self.save(path, body)
        return status, body


RECORDER = Recorder()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        status, body = RECORDER.answer(path, self.server.server_address[1])
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if path.startswith("/pypi/simple/"):
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        else:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def run(cmd, cwd, env=None):
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})})


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def replay(case, w, base, before, work):
    """The installer again with its own cutoff (`npm --before`, `pip
    --uploaded-prior-to`), into expected/before/."""
    out = os.path.join(case, "expected", "before")
    os.makedirs(out, exist_ok=True)
    if os.path.exists(os.path.join(w, "package.json")):
        os.remove(os.path.join(w, "package-lock.json"))
        r = run(["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
                 f"--before={before}", f"--registry={base}/npm/"], w,
                {"npm_config_cache": os.path.join(work, "npmcache-before")})
        if r.returncode == 0:
            shutil.copy(os.path.join(w, "package-lock.json"), out)
    else:
        r = run([os.environ.get("PIP", "pip"), "install", "--dry-run", "--quiet", "--no-cache-dir", "--report",
                 os.path.join(out, "pip-report.json"), "--platform", "manylinux2014_x86_64",
                 "--python-version", "3.12", "--only-binary=:all:", "--target", os.path.join(work, "t2"),
                 f"--uploaded-prior-to={before}", "--index-url", f"{base}/pypi/simple/", "-r",
                 "requirements.txt"], w, {"PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull})
    if r.returncode != 0:
        sys.exit(f"{case}: the installer failed with the cutoff {before}")


def record(case, port):
    base = f"http://127.0.0.1:{port}"
    manifest = os.path.join(case, "manifest")
    shutil.rmtree(os.path.join(case, "expected"), ignore_errors=True)
    os.makedirs(os.path.join(case, "expected"), exist_ok=True)
    RECORDER.out = {}
    # A case with an `untrimmed` file keeps every version of its projects.
    RECORDER.keep = 10**6 if os.path.exists(os.path.join(case, "untrimmed")) else KEEP_VERSIONS
    cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with tempfile.TemporaryDirectory() as work:
        w = os.path.join(work, "m")
        shutil.copytree(manifest, w)
        expect_failure = os.path.exists(os.path.join(case, "conflict"))
        if os.path.exists(os.path.join(w, "package.json")):
            r = run(["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit",
                     "--no-fund", f"--registry={base}/npm/"], w, {"npm_config_cache": os.path.join(work, "npmcache")})
            if r.returncode == 0:
                shutil.copy(os.path.join(w, "package-lock.json"), os.path.join(case, "expected"))
        elif os.path.exists(os.path.join(w, "requirements.txt")):
            pip = os.environ.get("PIP", "pip")
            r = run([pip, "install", "--dry-run", "--quiet", "--no-cache-dir", "--report",
                     os.path.join(case, "expected", "pip-report.json"), "--platform", "manylinux2014_x86_64",
                     "--python-version", "3.12", "--only-binary=:all:", "--target", os.path.join(work, "t"),
                     "--index-url", f"{base}/pypi/simple/", "-r", "requirements.txt"], w,
                    {"PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull})
        elif os.path.exists(os.path.join(w, "Cargo.toml")):
            home = os.path.join(work, "cargo-home")
            os.makedirs(home)
            with open(os.path.join(home, "config.toml"), "w") as f:
                f.write(f'[source.crates-io]\nreplace-with = "rec"\n[source.rec]\nregistry = "sparse+{base}/crates/"\n')
            r = run(["cargo", "generate-lockfile"], w, {"CARGO_HOME": home})
            if r.returncode == 0:
                shutil.copy(os.path.join(w, "Cargo.lock"), os.path.join(case, "expected"))
        else:
            sys.exit(f"{case}: no manifest")
        if (r.returncode != 0) != expect_failure:
            sys.exit(f"{case}: the installer {'succeeded' if r.returncode == 0 else 'failed'}")
        before = read(os.path.join(case, "before"))
        if before:
            replay(case, w, base, before, work)
        db = os.path.join(work, "db")
        dw = os.environ.get("DEPWARDEN", os.path.join(HERE, "..", "..", "target", "debug", "depwarden"))
        fresh = os.path.join(work, "fresh")
        shutil.copytree(manifest, fresh)
        for c in [cutoff] + ([before] if before else []):
            run([dw, "--db", db, "resolve", "--online", "--resolve-cutoff", c,
                 "--registry", f"npm={base}/npm/", "--registry", f"pypi={base}/pypi/simple/",
                 "--registry", f"crates={base}/crates/", fresh], work)
    with open(os.path.join(case, "cutoff"), "w") as f:
        f.write(cutoff + "\n")
    RECORDER.write(os.path.join(case, "registry.jsonl.gz"))
    RECORDER.out = None


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cases = sys.argv[1:] or sorted(
        os.path.join(HERE, d) for d in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, d, "manifest")))
    for case in cases:
        record(os.path.abspath(case), port)
    server.shutdown()


if __name__ == "__main__":
    main()
