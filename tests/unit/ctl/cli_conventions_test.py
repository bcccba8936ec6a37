#!/usr/bin/env python3
"""Both programs follow the command-line conventions their man pages state:
--version prints "NAME VERSION" and exits 0; a usage error (unknown option,
missing argument, unknown command) exits 2 with the reason on stderr; --help
exits 0.   usage: cli_conventions_test.py LTRACKCTL LTRACKD VERSION
"""
import subprocess
import sys

ctl, daemon, version = sys.argv[1:4]
failures = []


def expect(argv, status, out_has=None, err_has=None):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if r.returncode != status:
        failures.append(f"{argv}: exit {r.returncode}, expected {status}; stderr: {r.stderr.strip()[:200]}")
    if out_has is not None and out_has not in r.stdout:
        failures.append(f"{argv}: stdout lacks {out_has!r}: {r.stdout[:200]!r}")
    if err_has is not None and err_has not in r.stderr:
        failures.append(f"{argv}: stderr lacks {err_has!r}: {r.stderr[:200]!r}")


for prog, name in ((ctl, "ltrackctl"), (daemon, "ltrackd")):
    expect([prog, "--version"], 0, out_has=f"{name} {version}")
    expect([prog, "--help"], 0, out_has="--version")
    expect([prog, "--no-such-option"], 2, err_has="--help")
expect([daemon, "--no-such-option"], 2, err_has="no-such-option")
expect([ctl], 2, err_has="subcommand")           # a command is required
expect([ctl, "no-such-command"], 2, err_has="--help")
expect([ctl, "status", "--no-such-option"], 2, err_has="no-such-option")
expect([ctl, "check"], 2, err_has="policy")      # missing argument
expect([ctl, "scan", "--no-such-flag", "/"], 2)
expect([daemon, "--pin-dir"], 2)                 # option without its value
expect([ctl, "mode", "bogus"], 2, err_has="bogus")  # a value outside its choices
expect([ctl, "events", "--format", "xml"], 2)
expect([ctl, "reload", "a.toml", "b.toml"], 2)     # one policy at most
expect([ctl, "mode", "audit", "--json", "--no-such-option"], 2)  # usage errors stay text, exit 2, under --json
expect([daemon, "--json"], 2, err_has="--check-support")  # --json only with a one-shot report

for f in failures:
    print("FAIL:", f)
print("cli_conventions_test:", "ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
