#!/usr/bin/env python3
"""--json of the commands that talk to ltrackd (reload, mode, unload, status,
stats, events) and of the kernel checks (doctor, ltrackd --check-support),
seen from outside against a stand-in daemon on a control socket: one valid
JSON document on stdout, {"error": ...} when the command fails, the same exit
status as the text mode; what ltrackctl sends (reload's PATH absolute, "json",
"progress" only when stderr is a terminal); and reload's phase lines shown on
a terminal as the daemon sends them, before its reply.
usage: daemon_json_test.py LTRACKCTL LTRACKD
"""
import json
import os
import pty
import select
import socket
import subprocess
import sys
import tempfile
import threading

ctl, daemon = sys.argv[1:3]
failures = []


class FakeDaemon:
    """Answers each connection with the next scripted reply (bytes) and
    records the request's fields."""

    def __init__(self, path):
        self.path = path
        self.replies = []
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            with conn:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data.rstrip(b"\n").split(b"\t"))
                reply = self.replies.pop(0) if self.replies else b"error\nno reply scripted\n"
                conn.sendall(reply)


def run(argv, reply, sock):
    sock.replies.append(reply)
    return subprocess.run(argv, capture_output=True, timeout=60)


def one_json(what, out):
    try:
        text = out.decode("utf-8")  # strict: an invalid byte fails here
        lines = [l for l in text.split("\n") if l.strip()]
        if len(lines) != 1:
            failures.append(f"{what}: expected one JSON line on stdout, got {len(lines)}: {text[:300]!r}")
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        failures.append(f"{what}: not valid JSON ({e}): {out[:300]!r}")
        return None


def expect(what, cond, detail=""):
    if not cond:
        failures.append(f"{what}: {detail}")


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "ctl.sock")
    fake = FakeDaemon(path)
    S = ["--socket", path]

    # reload --json: the daemon's JSON object is the output; the request
    # carries the path made absolute and "json", and no "progress" (stderr
    # is not a terminal here).
    ok_reply = (b'ok\n{"reloaded":"/p.toml","profiles":1,"rules":2,"map_entries":3,"slot":1,"compile_ms":1.000,'
                b'"swap_ms":2.000,"write_ms":1.000,"flip_ms":0.010,"cleanup_ms":0.500,"entries_written":3,'
                b'"entries_removed":0}\n')
    r = run([ctl, "reload", "--json", "json"] + S, ok_reply, fake)
    doc = one_json("reload --json", r.stdout)
    expect("reload --json exit", r.returncode == 0, r.returncode)
    expect("reload --json body", doc and doc.get("slot") == 1 and doc.get("compile_ms") == 1.0, doc)
    req = fake.requests[-1]
    expect("reload request", req[:2] == [b"ltrack/1", b"reload"] and req[2] == os.path.abspath("json").encode()
           and b"json" in req[3:] and b"progress" not in req, req)

    # Rejected: {"error": the daemon's whole message}, exit 1 as in text mode.
    rejected = b"error\nrejected /p.toml; the active policy stays in force:\n/p.toml:3:1: error: bad \xff key\n"
    r = run([ctl, "reload", "--json", "/p.toml"] + S, rejected, fake)
    doc = one_json("reload --json (rejected)", r.stdout)
    expect("reload --json rejected exit", r.returncode == 1, r.returncode)
    expect("reload --json rejected error", doc and "rejected /p.toml" in doc.get("error", "")
           and "3:1: error" in doc.get("error", "") and "\ufffd" in doc.get("error", ""), doc)
    r = run([ctl, "reload", "/p.toml"] + S, rejected, fake)
    expect("reload (text, rejected)", r.returncode == 1 and b"rejected /p.toml" in r.stderr and not r.stdout,
           (r.returncode, r.stdout, r.stderr))

    # An older ltrackd that answers in text: still one JSON document.
    r = run([ctl, "reload", "--json"] + S, b"ok\nreloaded /p.toml (1 profiles, 2 rules): compiled in 1.0 ms\n", fake)
    doc = one_json("reload --json (text reply)", r.stdout)
    expect("reload --json text reply", r.returncode == 0 and doc and doc.get("message", "").startswith("reloaded"), doc)
    expect("reload without a path", fake.requests[-1][2:] == [b"json"], fake.requests[-1])

    # An ltrackd older than ltrackctl took "json" for the policy path and
    # rejected it: ltrackctl asks again without the option words.
    fake.replies.append(b"error\nrejected json; the active policy stays in force:\njson: cannot open\n")
    r = run([ctl, "reload", "--json"] + S, b"ok\nreloaded /p.toml (1 profiles, 2 rules)\n", fake)
    doc = one_json("reload --json (older daemon)", r.stdout)
    expect("reload --json older daemon", r.returncode == 0 and doc and doc.get("message", "").startswith("reloaded")
           and fake.requests[-2][1:] == [b"reload", b"json"] and fake.requests[-1][1:] == [b"reload"],
           (r.returncode, doc, fake.requests[-2:]))

    # mode and unload: ltrackctl writes the object; errors are {"error"}.
    r = run([ctl, "mode", "audit", "--profile", "inference", "--json"] + S, b"ok\nmode audit\n", fake)
    doc = one_json("mode --json", r.stdout)
    expect("mode --json", r.returncode == 0 and doc == {"mode": "audit", "profile": "inference"}, (r.returncode, doc))
    expect("mode request", fake.requests[-1][1:] == [b"mode", b"audit", b"inference"], fake.requests[-1])
    r = run([ctl, "mode", "enforce", "--json"] + S, b"ok\nmode enforce\n", fake)
    doc = one_json("mode --json (global)", r.stdout)
    expect("mode --json global", doc == {"mode": "enforce"}, doc)
    r = run([ctl, "mode", "audit", "--profile", "nope", "--json"] + S,
            b"error\nno profile 'nope' in the active policy (profiles: a, b)\n", fake)
    doc = one_json("mode --json (error)", r.stdout)
    expect("mode --json error", r.returncode == 1 and doc and doc.get("error", "").startswith("no profile"),
           (r.returncode, doc))
    r = run([ctl, "unload", "--json"] + S, b"ok\nunloading: programs detach and ltrackd exits\n", fake)
    doc = one_json("unload --json", r.stdout)
    expect("unload --json", r.returncode == 0 and doc and doc.get("unloading") is True, (r.returncode, doc))
    r = run([ctl, "unload", "--json"] + S, b"error\npermission denied: only root may control ltrackd (you are uid 7)\n",
            fake)
    doc = one_json("unload --json (refused)", r.stdout)
    expect("unload --json refused", r.returncode == 1 and "permission denied" in (doc or {}).get("error", ""), doc)

    # status and stats pass the daemon's JSON through; errors become JSON.
    for cmd in ("status", "stats"):
        r = run([ctl, cmd, "--json"] + S, b"error\nsomething failed\n", fake)
        doc = one_json(f"{cmd} --json (error)", r.stdout)
        expect(f"{cmd} --json error", r.returncode == 1 and doc == {"error": "something failed"}, (r.returncode, doc))
    r = run([ctl, "events", "--format", "json"] + S, b"error\nbad filter 'x'\n", fake)
    doc = one_json("events --format json (error)", r.stdout)
    expect("events json error", r.returncode == 1 and doc == {"error": "bad filter 'x'"}, (r.returncode, doc))

    # Nothing listening: the client's own error, as JSON, exit 1.
    for argv in (["reload", "--json"], ["mode", "audit", "--json"], ["unload", "--json"], ["status", "--json"]):
        r = subprocess.run([ctl] + argv + ["--socket", os.path.join(d, "none.sock")], capture_output=True, timeout=60)
        doc = one_json(f"{argv} (no daemon)", r.stdout)
        expect(f"{argv} no daemon", r.returncode == 1 and "not running" in (doc or {}).get("error", ""),
               (r.returncode, doc))

    # reload on a terminal: "progress" is asked for and each phase line is
    # shown on stderr as it comes; the reply still goes to stdout.
    progress_reply = (b"progress\tcompile\tcompiling /p.toml\nprogress\tcompile\tcompiled in 1.0 ms: 1 profiles\n"
                      b"progress\tfill\twriting 3 map entries into slot 1\nprogress\tswap\tflipping the live slot to 1\n"
                      b"progress\tswap\tdone in 2.0 ms\nok\nreloaded /p.toml (1 profiles, 2 rules)\n")
    fake.replies.append(progress_reply)
    master, slave = pty.openpty()
    p = subprocess.Popen([ctl, "reload", "/p.toml"] + S, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=60)
    err = b""
    while select.select([master], [], [], 0.5)[0]:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    expect("reload on a tty: exit", p.returncode == 0, p.returncode)
    expect("reload on a tty: asked for progress", b"progress" in fake.requests[-1], fake.requests[-1])
    for phase in (b"reload: compile: compiling /p.toml", b"reload: fill: writing 3", b"reload: swap: done in"):
        expect("reload on a tty: phase shown", phase in err, err)
    expect("reload on a tty: reply on stdout", out == b"reloaded /p.toml (1 profiles, 2 rules)\n", out)

# The kernel checks: one JSON object, "ok" agreeing with the exit status and
# the text mode's. (This host may or may not run BPF LSM: either is fine.)
for argv in ([ctl, "doctor"], [daemon, "--check-support"]):
    text = subprocess.run(argv, capture_output=True, timeout=60)
    r = subprocess.run(argv + ["--json"], capture_output=True, timeout=60)
    doc = one_json(f"{argv} --json", r.stdout)
    expect(f"{argv} --json exit", r.returncode == text.returncode and r.returncode in (0, 1),
           (r.returncode, text.returncode))
    if doc is not None:
        expect(f"{argv} --json ok", doc.get("ok") is (r.returncode == 0), doc)
        names = [c.get("name") for c in doc.get("checks", [])]
        expect(f"{argv} --json checks", "kernel BTF" in names and all("ok" in c and "detail" in c for c in doc["checks"]),
               doc)
        expect(f"{argv} --json failure", doc["ok"] or doc.get("cannot_enforce"), doc)
r = subprocess.run([daemon, "--json"], capture_output=True, timeout=60)
expect("ltrackd --json alone is a usage error", r.returncode == 2 and b"--check-support" in r.stderr, (r.returncode, r.stderr))

for f in failures:
    print("FAIL:", f)
print("daemon_json_test:", "ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
