#!/usr/bin/env python3
"""reduce.py DIR...: make installed trees small enough for a fixture while
keeping what depwarden reads. In every directory that holds `*.dist-info`
(a pip `--target` folder, a layer's `python/`, a site-packages), the
distributions keep METADATA, WHEEL, RECORD, INSTALLER, REQUESTED and
top_level.txt (METADATA without its description); their code keeps
empty `__init__.py` files and the native
files (shrunk with shrink_elf.py); everything else is removed. In
`node_modules/`, each package keeps its package.json and native files.
Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shrink_elf import shrink  # noqa: E402

DIST_KEEP = {"METADATA", "WHEEL", "RECORD", "INSTALLER", "REQUESTED", "top_level.txt"}


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def reduce_site(site):
    for root, dirs, files in os.walk(site):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        if "__pycache__" in os.listdir(root):
            pass
        for f in files:
            p = os.path.join(root, f)
            if os.path.islink(p):
                continue
            if root.endswith(".dist-info") and os.path.dirname(root) == site:
                if f not in DIST_KEEP:
                    os.remove(p)
                elif f == "METADATA":
                    # The headers only: the description after the first
                    # blank line is never read.
                    with open(p, encoding="utf-8", errors="replace") as fh:
                        head = fh.read().split("\n\n", 1)[0]
                    with open(p, "w", encoding="utf-8") as fh:
                        fh.write(head + "\n")
            elif is_elf(p):
                with open(p, "rb") as fh:
                    small = shrink(fh.read())
                with open(p, "wb") as fh:
                    fh.write(small)
            elif f == "__init__.py":
                open(p, "w").close()
            elif root != site or not f.endswith((".py", ".txt")):
                os.remove(p)
    for root, dirs, files in os.walk(site, topdown=False):
        for d in dirs:
            p = os.path.join(root, d)
            if d == "__pycache__":
                for x in os.listdir(p):
                    os.remove(os.path.join(p, x))
            if not os.listdir(p):
                os.rmdir(p)


def reduce_node_modules(nm):
    for root, dirs, files in os.walk(nm):
        for f in files:
            p = os.path.join(root, f)
            if os.path.islink(p) or f in ("package.json", ".package-lock.json"):
                continue
            if is_elf(p):
                with open(p, "rb") as fh:
                    small = shrink(fh.read())
                with open(p, "wb") as fh:
                    fh.write(small)
            else:
                os.remove(p)
    for root, dirs, files in os.walk(nm, topdown=False):
        for d in dirs:
            p = os.path.join(root, d)
            if not os.path.islink(p) and not os.listdir(p):
                os.rmdir(p)


def main(paths):
    for top in paths:
        for root, dirs, files in os.walk(top):
            if any(d.endswith(".dist-info") for d in dirs):
                reduce_site(root)
                dirs[:] = []
            elif os.path.basename(root) == "node_modules":
                reduce_node_modules(root)
                dirs[:] = []


if __name__ == "__main__":
    main(sys.argv[1:])
