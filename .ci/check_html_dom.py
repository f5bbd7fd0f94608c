#!/usr/bin/env python3
"""check_html_dom.py DOM.html REPORT.json: checks the DOM a browser rendered
from `scan --format html` against the JSON report of the same scan: the
verdict, the per-deployment counts, a finding's dependency path, and that
the filter script ran (the form is shown, the shown-count is filled in)."""
import json, sys
from html.parser import HTMLParser


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.by_id, self.rows, self.row = [], {}, [], None
        self.form_hidden = None
        self.svg_texts, self.current_svg = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("meta", "base", "br", "path"):
            return
        self.stack.append((tag, a.get("id")))
        if a.get("id"):
            self.by_id.setdefault(a["id"], "")
        if tag == "form":
            self.form_hidden = "hidden" in a
        if tag == "tr":
            self.row = {"class": a.get("class", ""), "cells": []}
        if tag in ("td", "th") and self.row is not None:
            self.row["cells"].append("")
        if tag == "svg":
            self.current_svg = []

    def handle_endtag(self, tag):
        if tag in ("meta", "base", "br", "path"):
            return
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        if tag == "svg" and self.current_svg is not None:
            self.svg_texts.append(self.current_svg)
            self.current_svg = None

    def handle_data(self, data):
        for _, i in self.stack:
            if i:
                self.by_id[i] += data
        if self.row is not None and self.row["cells"]:
            self.row["cells"][-1] += data
        if self.current_svg is not None and self.stack and self.stack[-1][0] == "tspan":
            self.current_svg.append(data)


def main():
    dom = Dom()
    dom.feed(open(sys.argv[1], encoding="utf-8").read())
    report = json.load(open(sys.argv[2], encoding="utf-8"))
    errors = []
    want = "dependency gate " + ("passed" if report["gate"]["passed"] else "failed")
    if dom.by_id.get("verdict", "").strip() != want:
        errors.append(f"verdict {dom.by_id.get('verdict')!r}, expected {want!r}")
    header = next(r["cells"] for r in dom.rows if r["cells"][:2] == ["deployment", "packages"])
    for d in report["deployments"]:
        row = next((r["cells"] for r in dom.rows if r["cells"] and r["cells"][0] == d["path"]), None)
        if row is None:
            errors.append(f"deployment {d['path']} has no row")
            continue
        for sev in ("critical", "high", "medium", "low", "unknown"):
            n = sum(1 for f in d["findings"] if f.get("severity") == sev and "ignored" not in f)
            got = row[header.index(sev)]
            if got != str(n):
                errors.append(f"{d['path']} {sev}: {got} shown, {n} in the JSON report")
    paths = [f["paths"][0] for d in report["deployments"] for f in d["findings"] if len(f["paths"][0]) > 1]
    if not paths or paths[0] not in dom.svg_texts:
        errors.append(f"path {paths[:1]} not drawn; drawn: {dom.svg_texts[:3]}")
    open_findings = sum(1 for d in report["deployments"] for f in d["findings"] if "ignored" not in f)
    if dom.form_hidden is not False:
        errors.append("the filter form is still hidden: the script did not run")
    if dom.by_id.get("shown", "").strip() != str(open_findings):
        errors.append(f"shown count {dom.by_id.get('shown')!r}, expected {open_findings}")
    for e in errors:
        print("check_html_dom:", e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"check_html_dom: verdict, {len(report['deployments'])} deployments' counts, "
          f"path {' > '.join(paths[0])} and {open_findings} filtered findings as expected")


main()
