#!/usr/bin/env python3
"""ltrackctl scan prints each verdict as soon as the file is decided, in text
and in --json (one document, each file's object on its own line), and shows
progress on stderr only when stderr is a terminal and there are more than 20
files.

Streaming is proven without timing: the second path is a FIFO, whose open()
blocks until a writer comes; the first file's verdict must be readable while
ltrackctl waits there. usage: scan_stream_test.py LTRACKCTL
"""
import json
import os
import pickle
import pty
import select
import subprocess
import sys
import tempfile
import time

ctl = sys.argv[1]
failures = []


def read_until(fd, enough, timeout=30):
    """Bytes read from fd (unbuffered: a buffered reader would hold data
    select() cannot see) until enough(data) or the timeout."""
    data = b""
    while not enough(data):
        if not select.select([fd], [], [], timeout)[0]:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return data
        data += chunk
    return data


def with_tty_stderr(argv):
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=60)
    tty = b""
    while select.select([master], [], [], 0.5)[0]:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    return out, tty


with tempfile.TemporaryDirectory() as d:
    first = os.path.join(d, "first.pkl")
    with open(first, "wb") as f:
        f.write(pickle.dumps({"a": 1}))
    fifo = os.path.join(d, "blocks")

    for mode in ("text", "json"):
        os.mkfifo(fifo)
        argv = [ctl, "scan"] + (["--json"] if mode == "json" else []) + [first, fifo]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        fd = p.stdout.fileno()
        # The first file's whole line, however the bytes arrive.
        head = read_until(fd, lambda b: b"first.pkl" in b and b.endswith(b"\n"))
        if head is None or b"first.pkl" not in head:
            failures.append(f"{mode}: the first verdict was not printed before the next file was scanned: {head!r}")
            head = head or b""
        elif mode == "json":
            obj = json.loads(head.decode().split("\n")[1].strip().lstrip(","))
            if obj.get("verdict") != "safe" or not obj["path"].endswith("first.pkl"):
                failures.append(f"json: the first object is wrong: {obj}")
        if p.poll() is not None:
            failures.append(f"{mode}: ltrackctl ended before the FIFO was opened (exit {p.returncode})")
        # Let it go: a writer opens and closes the FIFO; it is an error row.
        # Non-blocking (ENXIO until ltrackctl has reached its open of the
        # FIFO, which may come a moment after its first line): retried.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                break
            except OSError:
                time.sleep(0.01)
        rest = read_until(fd, lambda b: False, timeout=60) or b""
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            failures.append(f"{mode}: ltrackctl did not finish after the FIFO was opened")
        err = p.stderr.read()
        os.unlink(fifo)
        if p.returncode != 2:
            failures.append(f"{mode}: exit {p.returncode}, expected 2 (an error, nothing flagged): {err!r}")
        if mode == "json":
            try:
                doc = json.loads(head + rest)
                if [f["verdict"] for f in doc["files"]] != ["safe", "error"] or doc["summary"]["files"] != 2:
                    failures.append(f"json: the document is wrong: {doc}")
            except json.JSONDecodeError as e:
                failures.append(f"json: the streamed output is not one JSON document ({e}): {rest!r}")
        elif b"not a regular file" not in rest or b"scanned 2 files" not in rest:
            failures.append(f"text: the rest of the report is wrong: {rest!r}")
        if err:
            failures.append(f"{mode}: stderr is not a terminal, yet it got: {err!r}")

    # Progress: a directory of 25 files; stderr a terminal shows "[n/25]",
    # stderr a pipe gets nothing; stdout is the same either way.
    many = os.path.join(d, "many")
    os.mkdir(many)
    for i in range(25):
        with open(os.path.join(many, f"m{i:02}.pkl"), "wb") as f:
            f.write(pickle.dumps({"i": i}))
    piped = subprocess.run([ctl, "scan", many], capture_output=True, timeout=60)
    if piped.returncode != 0 or piped.stderr:
        failures.append(f"progress: with stderr a pipe: exit {piped.returncode}, stderr {piped.stderr!r}")
    out, tty = with_tty_stderr([ctl, "scan", many])
    if b"[0/25]" not in tty or not tty.endswith(b"\r\x1b[K"):
        failures.append(f"progress: not shown on a terminal, or not wiped at the end: {tty[:300]!r}")
    if out.splitlines()[:-1] != piped.stdout.splitlines()[:-1]:  # the summary's time may differ
        failures.append(f"progress: stdout differs when stderr is a terminal: {out[:300]!r}")
    out, tty = with_tty_stderr([ctl, "scan", first])  # one file: no progress
    if tty:
        failures.append(f"progress: shown for one file: {tty!r}")

for f in failures:
    print("FAIL:", f)
print("scan_stream_test:", "ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
