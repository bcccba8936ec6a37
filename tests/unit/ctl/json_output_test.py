#!/usr/bin/env python3
"""Every --json of ltrackctl is valid JSON whatever bytes an attacker chose.

File names, policy paths and pickle globals are attacker-chosen bytes: an
invalid UTF-8 byte, a line break, a quote or U+2028 in them must come out
escaped (invalid bytes as U+FFFD), never copied into the output, so that
json.loads (strict) accepts it and a log shipper cannot be fed a fake field.
usage: json_output_test.py LTRACKCTL
"""
import json
import os
import pickle
import subprocess
import sys
import tempfile

ctl = sys.argv[1]
failures = []
HOSTILE = [b"bad\xffname.pkl", b'q"uote\\back.pkl', b"line\nbreak.pkl", b"sep\xe2\x80\xa8.pkl", b"ctl\x01\x7f.pkl",
           b"overlong\xc0\xaf.pkl", b"trunc\xe2\x82.pkl"]


def strict_json(what, out):
    try:
        text = out.decode("utf-8")  # strict: an invalid byte fails here
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        failures.append(f"{what}: not valid JSON ({e}): {out[:300]!r}")
        return None


def pickle_importing(module: bytes, name: bytes) -> bytes:
    # GLOBAL opcode with attacker-chosen module/name bytes, then STOP.
    return b"\x80\x02c" + module + b"\n" + name + b"\n" + b"."


with tempfile.TemporaryDirectory() as d:
    db = d.encode()
    for i, name in enumerate(HOSTILE):
        with open(os.path.join(db, name), "wb") as f:
            f.write(pickle.dumps({"x": i}) if i % 2 else pickle_importing(b"os\xff\n", b"sys\xfetem"))
    r = subprocess.run([ctl, "scan", "--json", "--sha256", d], capture_output=True)
    doc = strict_json("scan --json", r.stdout)
    if doc is not None:
        text = json.dumps(doc)
        if text.count("\\ufffd") < 3:
            failures.append(f"scan --json: invalid bytes were not replaced by U+FFFD: {text[:300]}")
        if "bad" not in text or "line\\nbreak" not in text:
            failures.append(f"scan --json: a hostile file is missing from the report: {text[:300]}")

    # A policy naming a file with hostile bytes: check --json reports it.
    pol = os.path.join(db, b"p\xff.toml")
    with open(pol, "wb") as f:
        f.write(b'mode = "audit"\n[profile.p]\nexecutables = ["/usr/bin/true"]\n[profile.p.file]\n'
                b'default = "allow"\nrules = [ { action = "deny", file = "' + db + b'/bad\xffname.pkl" } ]\n')
    r = subprocess.run([ctl, "check", "--json", pol], capture_output=True)
    strict_json("check --json (policy with a non-UTF-8 path)", r.stdout)
    r = subprocess.run([ctl, "check", "--json", os.path.join(db, b"missing\xff.toml")], capture_output=True)
    strict_json("check --json (a missing policy file named with an invalid byte)", r.stdout)

for f in failures:
    print("FAIL:", f)
print("json_output_test:", "ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
