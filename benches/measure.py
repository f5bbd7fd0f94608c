#!/usr/bin/env python3
"""Whole-process figures for benches/README.md: wall time (median of 5)
and peak RSS of the release binary, generated inputs in a temp dir.

Usage: python3 benches/measure.py [--bin target/release/depwarden]
       [--scale-bin PATH-TO-scale-bench-binary] [--runs 5] [--only NAME]

Needs the release binary (`cargo build --release`) and the scale bench
binary (`cargo bench --bench scale --no-run` prints its path). cargo-audit
is compared when `cargo audit` exists and RUSTSEC_DB names a RustSec
advisory-db checkout (the same data as the embedded snapshot).
"""
import argparse
import os
import shutil
import statistics
import sys
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None):
    """Runs cmd; returns (wall seconds, peak RSS KB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def median_of(cmd, runs, setup=None):
    walls, rss = [], []
    for _ in range(runs):
        if setup:
            setup()
        w, m, _ = run(cmd)
        walls.append(w)
        rss.append(m)
    return statistics.median(walls), max(rss)


def fmt(w, m):
    return f"{w * 1e3:8.1f} ms  peak RSS {m / 1024:6.1f} MB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "depwarden"))
    ap.add_argument("--scale-bin", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="depwarden-measure-")
    db = os.path.join(tmp, "db")
    b = a.bin
    try:
        # Warm the DB (the embedded snapshot) once.
        run([b, "--db", db, "--no-progress", "scan", "--format", "json",
             os.path.join(ROOT, "testdata/demo")])
        want = lambda name: a.only in (None, name)

        if want("cold"):
            cold_db = os.path.join(tmp, "cold")
            w, m = median_of([b, "--db", cold_db, "--no-progress", "scan", "--format", "json",
                              os.path.join(ROOT, "testdata/demo")], a.runs,
                             setup=lambda: shutil.rmtree(cold_db, ignore_errors=True))
            print(f"cold first run (snapshot import + demo scan): {fmt(w, m)}")

        if want("large-app"):
            w, m = median_of([b, "--db", db, "--no-progress", "scan", "--format", "json",
                              os.path.join(ROOT, "testdata/npm/large-app")], a.runs)
            print(f"3,138-entry package-lock.json, warm DB:       {fmt(w, m)}")

        if want("scale"):
            for n in (10, 100, 1000):
                d = os.path.join(tmp, f"scale-{n}")
                subprocess.run([a.scale_bin, "generate", d, str(n), str(n * 500)], check=True,
                               stderr=subprocess.DEVNULL)
                w, m = median_of([b, "--db", db, "--no-progress", "scan", "--format", "json", d],
                                 a.runs)
                print(f"{n:5} deployments, {n * 500:7} entries:        {fmt(w, m)}")
                shutil.rmtree(d, ignore_errors=True)
                # Let the kernel write back the removed tree before the next case.
                os.sync()
                time.sleep(2)

        if want("cargo-audit"):
            lock = os.path.join(ROOT, "testdata/cargo/audit/gix/Cargo.lock")
            advdb = os.environ.get("RUSTSEC_DB", "")
            if not os.path.isdir(advdb):
                sys.exit("cargo-audit comparison: set RUSTSEC_DB to a RustSec advisory-db directory")
            ca = [os.path.expanduser("~/.cargo/bin/cargo-audit"), "audit", "--db", advdb,
                  "--no-fetch", "--stale", "--no-yanked", "--json", "-f", lock]
            dw = [b, "--db", db, "--no-progress", "scan", "--format", "json", lock]
            ours, theirs, ours_rss, theirs_rss = [], [], [], []
            # Single-digit milliseconds: more runs than the other cases, so
            # that a stall of the shared machine does not move the median.
            for _ in range(max(a.runs, 21)):
                w, m, _ = run(ca)
                theirs.append(w)
                theirs_rss.append(m)
                w, m, _ = run(dw)
                ours.append(w)
                ours_rss.append(m)
            mo, mt = statistics.median(ours), statistics.median(theirs)
            print(f"gix Cargo.lock: depwarden {mo * 1e3:.1f} ms, cargo audit {mt * 1e3:.1f} ms, "
                  f"ratio {mt / mo:.1f}x; peak RSS (median) depwarden "
                  f"{statistics.median(ours_rss) / 1024:.1f} MB, cargo audit "
                  f"{statistics.median(theirs_rss) / 1024:.1f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
