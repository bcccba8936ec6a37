#!/bin/bash
# Per-call kernel run time of ltrack's programs for an ungoverned process: rename, link, open, mount.
# In the guest: tests/vm/run --command 'bench/hookcost.sh $PWD/build' (BUILD is the argument).
# Uses /tmp/hc and the pin directory /sys/fs/bpf/hc; prints calls and ns per call per program.
#
# bench/hookcost.sh BUILD --hot [RULES]: the hot programs instead (issue 19), under a policy like
# bench/guest.sh's (RULES file deny rules on files that are not opened, RULES network deny /32s,
# `allow loopback tcp`, exec default allow with a deny rule, one profile chosen by cgroup; 100,000
# if not given): bench/hotcost.py runs 20,000 loopback TCP connects, 300 fork+execs of
# /usr/bin/true and 20,000 opens of a file (HC_CONNECTS, HC_EXECS, HC_OPENS), first in a worker
# that is not governed, then in one moved into the profile's cgroup, and prints per phase the
# calls and ns per call of every program that ran.
F=$(dirname $0); B=$1
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
if [ "${2:-}" = --hot ]; then
  N=${3:-100000}; W=/tmp/hc-hot; cg=/sys/fs/cgroup/hc-hot
  rm -rf $W; mkdir -p $W $cg
  $B/bench/ltrack_bench mkfiles $W/rules $N || exit 1
  {
    printf 'mode = "enforce"\n[profile.bench]\ncgroups = ["%s"]\n' $cg
    printf '[profile.bench.file]\ndefault = "allow"\nrules = [\n'
    awk -v n=$N -v d=$W/rules 'BEGIN { for (i = 0; i < n; i++) printf "  { action = \"deny\", file = \"%s/%d\" },\n", d, i }'
    printf ']\n[profile.bench.exec]\ndefault = "allow"\nrules = [ { action = "deny", file = "/usr/bin/dash" } ]\n'
    printf '[profile.bench.network]\ndefault = "deny"\nunix = "allow"\nrules = [\n  { action = "allow", to = "loopback", proto = "tcp" },\n'
    awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "  { action = \"deny\", to = \"10.%d.%d.%d/32\", proto = \"tcp\" },\n", int(i / 65536), int(i / 256) % 256, i % 256 }'
    printf ']\n'
  } > $W/p.toml
  $B/policyd/ltrackd --policy $W/p.toml --decision-log $W/log --socket $W/c.sock --pin-dir /sys/fs/bpf/hc > $W/out 2>&1 &
  D=$!
  for i in $(seq 900); do [ -S $W/c.sock ] && break; kill -0 $D 2>/dev/null || break; sleep 1; done
  [ -S $W/c.sock ] || { echo "ltrackd did not start:"; cat $W/out; kill $D; exit 1; }
  echo "ltrackd up with $N + $N rules after $SECONDS s; clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
  sleep 2
  sysctl -qw kernel.bpf_stats_enabled=1
  /usr/bin/python3 $F/hotcost.py $cg $W ${HC_CONNECTS:-20000} ${HC_EXECS:-300} ${HC_OPENS:-20000}
  rc=$?
  sysctl -qw kernel.bpf_stats_enabled=0
  kill $D; wait $D; rm -rf /sys/fs/bpf/hc $W; rmdir $cg 2>/dev/null
  exit $rc
fi
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
