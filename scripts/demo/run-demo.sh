#!/usr/bin/env bash
# Runs the demonstration on a kernel that can enforce (natively or inside
# the VM): ltrackd with policies/demo.toml, the workload in the demo cgroup,
# then the decisions ltrackd logged.   run-demo.sh BUILD_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
work=/tmp/ltrack-demo
cgroup=/sys/fs/cgroup/ltrack-demo
models=/srv/ltrack-demo/models
sock=$work/ltrackd.sock
ctl() { "$build/ctl/ltrackctl" "$@" --socket "$sock"; }

mkdir -p "$work"
# The policy names these; they must exist before it is compiled. A
# read-only root (the VM shares the host's) gets a tmpfs on /srv.
mkdir -p "$models" 2>/dev/null || { mount -t tmpfs tmpfs /srv && mkdir -p "$models"; }
mkdir -p "$cgroup"
/usr/bin/python3 -c 'import pickle,sys; pickle.dump({"weights": [0.1, 0.2]}, open(sys.argv[1], "wb"))' "$models/benign.pkl"
cp "$models/benign.pkl" "$work/stray.pkl"

cleanup() {
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rmdir "$cgroup" 2>/dev/null || true
  rm -rf /srv/ltrack-demo
}
trap cleanup EXIT

echo "demo: ltrackd enforcing $top/policies/demo.toml"
"$build/policyd/ltrackd" --policy "$top/policies/demo.toml" --decision-log "$work/decisions.jsonl" \
  --socket "$sock" --pin-dir /sys/fs/bpf/ltrack-demo &
daemon=$!
for _ in $(seq 1 120); do
  ctl status >/dev/null 2>&1 && break
  kill -0 "$daemon" 2>/dev/null || { echo "demo: ltrackd exited" >&2; exit 1; }
  sleep 0.5
done
ctl status

echo
echo "demo: running the workload in cgroup $cgroup (governed by profile 'demo-worker'):"
sh -c "echo \$\$ > $cgroup/cgroup.procs && exec /usr/bin/python3 $top/scripts/demo/workload.py $models"

sleep 1
echo
echo "demo: the decisions ltrackd logged:"
ctl events --format text
echo
echo "demo: the same, as written to $work/decisions.jsonl (first lines):"
head -n 3 "$work/decisions.jsonl"
