#!/usr/bin/env bash
# The main job: installs what is needed, builds, and runs ltrackd enforcing
# the shipped demonstration policy (policies/demo.toml) against a workload
# that tries what the policy forbids, then prints the decisions ltrackd
# logged. Runs natively when this kernel can run BPF LSM programs, and in a
# QEMU VM with Debian's kernel otherwise (it says which). Run as root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
cd "$top"
scripts/setup.sh "$build"

if "$build/policyd/ltrackd" --check-support >/dev/null 2>&1; then
  echo "demo: this kernel runs BPF LSM programs: running natively"
  exec scripts/demo/run-demo.sh "$build"
fi
echo "demo: this kernel cannot run BPF LSM programs ($("$build/policyd/ltrackd" --check-support 2>&1 | tail -n 1))"
echo "demo: running it in a QEMU VM with Debian's kernel instead (tests/vm/run --command)"
exec tests/vm/run --build "$build" --command "scripts/demo/run-demo.sh $build"
