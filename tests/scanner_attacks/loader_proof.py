#!/usr/bin/python3
"""Proves each file of the attack corpus (make_attacks.py) against the real
loaders and the real scanner:

  attack   every loader named in the manifest reaches the payload (audit
           hook, sandbox.py), and `ltrackctl scan --json` says one of the
           expected verdicts (unsafe or error), within max_seconds if set;
  benign   every named loader loads it cleanly, resolving only allowlisted
           globals that the scanner listed, and the scanner says safe.

A manifest entry with "xfail": "reason" is a known scanner gap: its failure
is printed as XFAIL with the reason and does not fail the test. A proof
that the loader runs the payload is never excused.

  loader_proof.py --ltrackctl BIN --classify BIN CORPUS_DIR [--only SUBSTR]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
import sandbox  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ltrackctl", required=True)
    ap.add_argument("--classify", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("corpus")
    a = ap.parse_args()
    with open(os.path.join(a.corpus, "manifest.json")) as f:
        manifest = json.load(f)
    scanner = oracle.Scanner(a.ltrackctl, a.classify)
    pool = sandbox.Pool()
    failed, xfailed, xpassed = [], [], []
    manifest = [e for e in manifest if a.only in e["file"]]
    for e in manifest:
        path = os.path.join(a.corpus, e["file"])
        benign = e["expect"] == ["safe"]
        loader_problems, scan_problems = [], []
        loads = {}
        for loader in e["loaders"]:
            rec = loads[loader] = pool.load(loader, path)
            if benign and (rec["exec"] or rec["error"]):
                loader_problems.append(f"{loader} did not load it cleanly: {rec['exec'][:1]} {rec['error']}")
            if not benign and not rec["exec"]:
                loader_problems.append(f"{loader} did not reach the payload ({rec['error']})")
        limit = e.get("max_seconds", 60)
        scan = scanner.scan(path, timeout=limit)
        if scan["verdict"] not in e["expect"]:
            scan_problems.append(f"scanner said {scan['verdict']}, expected {'/'.join(e['expect'])} ({scan['text']})")
        elif scan["seconds"] > limit:
            scan_problems.append(f"scan took {scan['seconds']:.1f} s, over {limit} s")
        if benign:
            scan_problems += oracle.findings(scan, loads, scanner)
        ran = ",".join(e["loaders"]) or "-"
        line = f"{e['file']:<36} {e['technique']:<34} loaders {ran:<24} scan {scan['verdict']:<10} {scan['seconds']:5.2f}s"
        if loader_problems or (scan_problems and not e.get("xfail")):
            failed.append(f"{e['technique']} ({e['file']})")
            print(f"FAIL  {line}")
            for p in loader_problems + scan_problems:
                print(f"      {p}")
        elif scan_problems:
            xfailed.append(e["file"])
            print(f"XFAIL {line}\n      {scan_problems[0]}\n      known gap: {e['xfail']}")
        else:
            if e.get("xfail"):
                xpassed.append(e["file"])
            print(f"ok    {line}")
        sys.stdout.flush()
    print(f"\n{len(manifest) - len(failed) - len(xfailed)} ok, {len(xfailed)} known gaps (xfail), {len(failed)} failed")
    if xfailed:
        print("known gaps (files): " + ", ".join(xfailed))
    if xpassed:
        print("now caught, remove them from KNOWN_GAPS in make_attacks.py: " + ", ".join(xpassed))
    if failed:
        print("FAILED techniques: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
