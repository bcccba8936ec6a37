#!/bin/bash
# Per-call kernel run time of ltrack's programs for an ungoverned process: rename, link, open, mount.
# In the guest: tests/vm/run --command 'bench/hookcost.sh $PWD/build' (BUILD is the argument).
# Uses /tmp/hc and the pin directory /sys/fs/bpf/hc; prints calls and ns per call per program.
F=$(dirname $0); B=$1
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
W=/tmp/hc; mkdir -p $W/m
printf 'mode = "enforce"\n[profile.p]\nexecutables = ["/bin/false"]\n[profile.p.file]\ndefault = "allow"\nrules = [ { action = "deny", name = "*.pkl" }, { action = "deny", dir = "/tmp/hc/m" } ]\n' > $W/p.toml
$B/policyd/ltrackd --policy $W/p.toml --decision-log $W/log --socket $W/c.sock --pin-dir /sys/fs/bpf/hc > $W/out 2>&1 &
D=$!
for i in $(seq 120); do [ -S $W/c.sock ] && break; sleep 1; done
sleep 2
sysctl -qw kernel.bpf_stats_enabled=1
/usr/bin/python3 $F/progstats.py > $W/before.json
/usr/bin/python3 - <<'PY'
import os, ctypes
W="/tmp/hc"
open(W+"/a","w").write("x")
N=3000
for i in range(N):
    os.rename(W+"/a", W+"/b"); os.rename(W+"/b", W+"/a")
for i in range(N):
    os.link(W+"/a", W+"/l"); os.unlink(W+"/l")
for i in range(N):
    os.close(os.open(W+"/a", os.O_RDONLY))
for i in range(N):
    os.close(os.open(W+"/a", os.O_WRONLY))
libc = ctypes.CDLL(None, use_errno=True)
for i in range(300):
    assert libc.mount(b"none", (W+"/m").encode(), b"tmpfs", 0, None) == 0
    assert libc.umount2((W+"/m").encode(), 0) == 0
PY
/usr/bin/python3 $F/progstats.py > $W/after.json
sysctl -qw kernel.bpf_stats_enabled=0
/usr/bin/python3 - <<'PY'
import json
b=json.load(open("/tmp/hc/before.json")); a=json.load(open("/tmp/hc/after.json"))
for n in sorted(a):
    if not (n.startswith("guard") or n.startswith("model") or n.startswith("track")): continue
    c=a[n][0]-b.get(n,(0,0))[0]; t=a[n][1]-b.get(n,(0,0))[1]
    if c: print("%-28s calls=%7d ns/call=%7.0f" % (n, c, t/c))
PY
kill $D; wait $D; rm -rf /sys/fs/bpf/hc
