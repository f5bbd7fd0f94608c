#!/usr/bin/env python3
"""Resource cases of hostile input: generated files that once made the
scanner use memory or time out of proportion to their size. Each case is
run once under `/usr/bin/time -v` (wall time and peak RSS); the limits a
case should stay under are 10 s and 1 GB, or a refusal naming the limit.

Usage: python3 benches/hostile.py [--bin target/release/depwarden]
       [--only NAME[,NAME...]] [--keep DIR]

Cases (NAME):
  chain-5000, chain-10000, chain-200000
                            inventory --format json of a package-lock.json
                            whose packages form one dependency chain
  pnpm-anchors              pnpm-lock.yaml reusing one anchored 20,000-key
                            map 2,000 times (296 KB)
  yaml-flow-100000          flow sequences nested 100,000 deep (200 KB)
  requirements-250mb        a 250 MB requirements.txt of one line
  requirements-250mb-lines  a 250 MB requirements.txt of 25 million short lines
  toml-flood-100mb          a 100 MB Cargo.lock of 50 million non-TOML tokens
  npm-100mb-name            scan of a package-lock.json naming a 100 MB package
  yarn-32mb-line            scan of a yarn.lock whose entry header is one 32 MB
                            line (a 32 MB package name)
  yarn-32mb-specs           scan of a yarn.lock entry header listing 3.5 million
                            specifiers (32 MB)
  online-stall              scan --online against a registry that never
                            answers, with timeout_ms = 86400000 in the config
  jobs-100000               scan --jobs 100000
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

STALL = None
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chain_lock(d, n):
    """package-lock.json v3: root -> p0 -> p1 -> ... -> p(n-1)."""
    pkgs = {"": {"name": "app", "version": "1.0.0", "dependencies": {"p0": "1.0.0"}}}
    for i in range(n):
        e = {"version": "1.0.0", "resolved": f"https://registry.npmjs.org/p{i}/-/p{i}-1.0.0.tgz"}
        if i + 1 < n:
            e["dependencies"] = {f"p{i + 1}": "1.0.0"}
        pkgs[f"node_modules/p{i}"] = e
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
            "packages": pkgs}
    with open(os.path.join(d, "package-lock.json"), "w") as f:
        json.dump(lock, f, separators=(",", ":"))


def pnpm_anchors(d, keys=20_000, uses=2_000):
    with open(os.path.join(d, "pnpm-lock.yaml"), "w") as f:
        f.write("lockfileVersion: '6.0'\n\npackages:\n\n  /base@1.0.0:\n")
        f.write("    resolution: {integrity: sha512-x}\n    dependencies: &deps\n")
        for i in range(keys):
            f.write(f"      k{i}: 1\n")
        for j in range(uses):
            f.write(f"  /p{j}@1.0.0:\n    dependencies: *deps\n")


def yaml_flow(d, depth=100_000):
    with open(os.path.join(d, "pnpm-lock.yaml"), "w") as f:
        f.write("lockfileVersion: '6.0'\npackages: " + "[" * depth + "]" * depth + "\n")


def requirements_line(d, size=250_000_000):
    with open(os.path.join(d, "requirements.txt"), "w") as f:
        chunk = "a " * 500_000
        written = 0
        while written < size:
            f.write(chunk)
            written += len(chunk)
        f.write("\n")


def requirements_lines(d, size=250_000_000):
    """250 MB of short requirement lines (about 25 million)."""
    with open(os.path.join(d, "requirements.txt"), "w") as f:
        chunk = "".join(f"p{i}==1.0\n" for i in range(100_000))
        written = 0
        while written < size:
            f.write(chunk)
            written += len(chunk)


def toml_flood(d, size=100_000_000):
    """A Cargo.lock of 50 million tokens that are not TOML."""
    with open(os.path.join(d, "Cargo.lock"), "w") as f:
        f.write("a\n" * (size // 2))


def npm_long_name(d, size=100_000_000):
    """A package-lock.json naming one package with a 100 MB name."""
    name = "a" * size
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": {
        "": {"name": "app", "version": "1.0.0", "dependencies": {name: "1.0.0"}},
        "node_modules/" + name: {"version": "1.0.0"}}}
    with open(os.path.join(d, "package-lock.json"), "w") as f:
        json.dump(lock, f)


def yarn_line(d, size=32_000_000):
    """An entry whose header is one 32 MB line: a 32 MB package name."""
    with open(os.path.join(d, "yarn.lock"), "w") as f:
        f.write("# yarn lockfile v1\n\n\n")
        f.write("a" * size + "@^1.0.0:\n")
        f.write('  version "1.3.0"\n')
        f.write('  resolved "https://registry.yarnpkg.com/a/-/a-1.3.0.tgz"\n')
        f.write('\nleft-pad@^1.3.0:\n  version "1.3.0"\n')


def yarn_specs(d, size=32_000_000):
    """An entry header of 32 MB listing 3.5 million specifiers."""
    with open(os.path.join(d, "yarn.lock"), "w") as f:
        f.write("# yarn lockfile v1\n\n\n")
        parts, written, i = [], 0, 0
        while written < size:
            p = f"a@^{i}"
            parts.append(p)
            written += len(p) + 2
            i += 1
        f.write(", ".join(parts) + ":\n")
        f.write('  version "1.3.0"\n')


def stalled_registry():
    """A loopback server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held = []

    def accept():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            held.append(c)

    threading.Thread(target=accept, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.getsockname()[1]}"


def online_stall(d):
    """An internal npm name looked up on a registry that never answers,
    with a configured timeout of one day."""
    shutil.copytree(os.path.join(ROOT, "testdata", "confusion", "npm-private"), d,
                    dirs_exist_ok=True)
    global STALL
    STALL = stalled_registry()
    with open(os.path.join(d, "depwarden.toml"), "w") as f:
        f.write(f'[registries]\ntimeout_ms = 86400000\n[registries.public]\nnpm = "{STALL[1]}"\n')


CASES = {
    "chain-5000": (lambda d: chain_lock(d, 5_000), ["inventory", "--format", "json"]),
    "chain-10000": (lambda d: chain_lock(d, 10_000), ["inventory", "--format", "json"]),
    "chain-200000": (lambda d: chain_lock(d, 200_000), ["inventory", "--format", "json"]),
    "pnpm-anchors": (pnpm_anchors, ["inventory", "--format", "json"]),
    "yaml-flow-100000": (yaml_flow, ["inventory", "--format", "json"]),
    "requirements-250mb": (requirements_line, ["inventory", "--format", "json"]),
    "requirements-250mb-lines": (requirements_lines, ["inventory", "--format", "json"]),
    "toml-flood-100mb": (toml_flood, ["inventory", "--format", "json"]),
    "npm-100mb-name": (npm_long_name, ["scan", "--format", "json"]),
    "yarn-32mb-line": (yarn_line, ["scan", "--format", "json"]),
    "yarn-32mb-specs": (yarn_specs, ["scan", "--format", "json"]),
    "online-stall": (online_stall, ["scan", "--online", "--format", "json"]),
    "jobs-100000": (lambda d: chain_lock(d, 10), ["scan", "--jobs", "100000", "--format", "json"]),
}


def measure(cmd, timeout):
    """(wall seconds, peak RSS MB, exit code, first stderr line) of one run."""
    full = ["/usr/bin/time", "-v"] + cmd
    # A pinned clock keeps the embedded data fresh enough for no warning.
    env = dict(os.environ, DEPWARDEN_NOW="2026-08-25T00:00:00Z")
    # Its own process group, so that a run over the timeout is ended
    # whole (time(1) and depwarden under it).
    out = tempfile.TemporaryFile()
    p = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE, text=True,
                         errors="replace", env=env, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, None, "killed", ""
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    secs = None
    if wall:
        parts = [float(x) for x in wall.group(1).split(":")]
        secs = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    code = re.search(r"Exit status: (\d+)", err)
    lines = [l for l in err.splitlines() if l.startswith("depwarden")]
    first = next((l for l in lines if "error" in l), "") or refusal(out) or \
        (lines[0] if lines else "")
    return secs, int(rss.group(1)) / 1024 if rss else None, \
        int(code.group(1)) if code else p.returncode, first[:160]


def refusal(out):
    """The first error-level message of a JSON report or inventory, if any."""
    out.seek(0)
    try:
        doc = json.load(out)
    except ValueError:
        return ""
    for d in doc.get("deployments", []):
        for e in d.get("errors", []):
            if e.get("level") == "error":
                return f"error in the report: {e.get('message', '')}"
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "depwarden"))
    ap.add_argument("--only")
    ap.add_argument("--keep", help="write the cases into DIR and keep them")
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else None
    tmp = a.keep or tempfile.mkdtemp(prefix="depwarden-hostile-")
    db = os.path.join(tmp, "db")
    try:
        subprocess.run([a.bin, "--db", db, "--no-progress", "db", "status"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, (gen, args) in CASES.items():
            if only and name not in only:
                continue
            d = os.path.join(tmp, name)
            os.makedirs(d, exist_ok=True)
            gen(d)
            size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
            cmd = [a.bin, "--db", db, "--no-progress"] + args + [d]
            secs, mb, code, first = measure(cmd, a.timeout)
            wall = f"{secs:7.2f} s" if secs is not None else f"> {a.timeout:.0f} s"
            peak = f"{mb:8.1f} MB" if mb is not None else "       ?"
            print(f"{name:20} input {size / 1e6:7.1f} MB  wall {wall}  peak RSS {peak}  "
                  f"exit {code}  {first}", flush=True)
            if not a.keep:
                shutil.rmtree(d, ignore_errors=True)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
