#!/bin/bash
# The kernel's own cost of the self-protection programs (lsm/self.bpf.c) for
# an UNGOVERNED process: per-program run time from kernel.bpf_stats_enabled,
# as bench/guest.sh --part kernel measures the other programs. Runs inside
# the VM:  tests/vm/run --build DIR --command 'bench/self_protection_cost.sh DIR'
# Prints one line per program: runs, total ns, ns per run.
set -euo pipefail
build=${1:?usage: self_protection_cost.sh BUILD_DIR}
n=${2:-300}
w=$(mktemp -d /tmp/selfcost.XXXXXX)
pins=/sys/fs/bpf/ltrack-selfcost
printf 'mode = "enforce"\n[profile.p]\nexecutables = ["/bin/false"]\n' >"$w/policy.toml"
"$build/policyd/ltrackd" --policy "$w/policy.toml" --pin-dir "$pins" --socket "$w/sock" \
  --decision-log "$w/log" >"$w/out" 2>&1 &
daemon=$!
for _ in $(seq 300); do [ -S "$w/sock" ] && break; sleep 0.2; done
[ -S "$w/sock" ] || { cat "$w/out"; exit 1; }
stats() { bpftool prog show --json | jq -c '[.[] | select((.name // "") | test("^(guard_|drop_)")) | {name, run_cnt: (.run_cnt // 0), run_time_ns: (.run_time_ns // 0)}]'; }
sysctl -q -w kernel.bpf_stats_enabled=1
s0=$(stats)
sleep 100 & victim=$!
for _ in $(seq "$n"); do
  kill -0 "$victim"                        # task_kill
  : <"/proc/$victim/environ" 2>/dev/null  # ptrace_access_check (+ file_open)
  : >"$w/f"; mv "$w/f" "$w/g"; rm -f "$w/g" # file_open, inode_rename, inode_unlink
done
for _ in $(seq $((n / 20))); do bpftool prog show >/dev/null; done   # bpf(2)
s1=$(stats)
sysctl -q -w kernel.bpf_stats_enabled=0
kill "$victim" "$daemon"; wait "$daemon" || true
"$build/policyd/ltrackd" --unload --pin-dir "$pins" >/dev/null 2>&1
jq -rn --argjson a "$s0" --argjson b "$s1" '
  $b[] as $p | ($a[] | select(.name == $p.name)) as $q |
  select($p.run_cnt > $q.run_cnt) |
  "\($p.name) runs=\($p.run_cnt - $q.run_cnt) ns_per_run=\((($p.run_time_ns - $q.run_time_ns) / ($p.run_cnt - $q.run_cnt)) | floor)"'
rm -rf "$w"
