#!/bin/bash
# The benchmark's guest side: runs inside the VM (as root, in the chroot of
# the host's root, cwd = the repo), started by bench/run through
# `tests/vm/run --command` or by the VM suite's BenchSmoke test.
#
#   bench/guest.sh --build DIR --out FILE [--smoke] [--part ltrack|compare|kernel|pipeline]
#
# Measures, all in this one boot: open+read+close without ltrack; with ltrack
# loaded, governed and allowed, governed and denied, at several rule counts and
# ancestor-walk depths; fork+exec and TCP connect governed. Each guarded case
# is interleaved with its baseline (`ltrack_bench pairs`: an ungoverned and a
# governed worker of the same binary on the same file take turns, one
# repetition each, in a fixed-seed random order), so host drift cancels in the
# per-pair ratio; the "ungoverned" cases are A/A controls (both workers
# ungoverned: their ratio must come out 1.0). Also: the kernel's per-program
# run time
# (kernel.bpf_stats_enabled); reload time and the decisions made during the
# swap; decision-log throughput and drops; ltrackd's resident size and the BPF
# map memory; the same open workload under fapolicyd and under an AppArmor
# profile. Writes one JSON object per line to FILE ({"section": ..., ...});
# bench/report.py turns them into docs/performance.md. --smoke uses tiny
# counts (the VM suite's check that the benchmark still runs); --part runs
# only ltrack's sections or only the baseline and the fapolicyd/AppArmor
# comparison (the smoke tests run each part in its own test); --part kernel
# runs only the per-program run time, with more iterations and the deepest
# tree at depth 60 (a quick before/after for a change to the BPF programs);
# --part pipeline runs only the decision pipeline's throughput (distinct
# denials at paced rates, and the drain of a backlog).
set -uo pipefail

main() {
  local build="" out="" smoke=0 part=all
  while [ $# -gt 0 ]; do
    case $1 in
      --build) build=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      --smoke) smoke=1; shift ;;
      --part) part=$2; shift 2 ;;
      *) echo "bench/guest.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
  done
  [ -n "$build" ] && [ -n "$out" ] || { echo "bench/guest.sh: usage: --build DIR --out FILE [--smoke]" >&2; exit 2; }

  bench=$build/bench/ltrack_bench
  ltrackd=$build/policyd/ltrackd
  ctl=$build/ctl/ltrackctl
  for b in "$bench" "$ltrackd" "$ctl"; do
    [ -x "$b" ] || { echo "bench/guest.sh: $b is missing: build first" >&2; exit 1; }
  done

  flood_files=100 flood_procs=1 burst=100 # (the kernel part makes no flood)
  if [ "$part" = kernel ]; then
    # One policy (the smoke's or the full run's largest count), each
    # workload long enough for a stable time per call.
    if [ $smoke = 1 ]; then counts=(100); else counts=(100000); fi
    reload_counts=() memory_counts=() net_counts=() depths=(60) open_iters=2000 exec_iters=40 conn_iters=400
  elif [ $smoke = 1 ]; then
    counts=(10) reload_counts=(100) memory_counts=(100) net_counts=(10)
    depths=(5 20) open_iters=200 reps=3 pairs=3 exec_iters=2 exec_pairs=3 conn_iters=50 controls=0 flood_secs=2 flood_rates=(500) other_iters=50 settle=1 watch_rate=200
    flood_files=2000 flood_procs=2 burst=500
  else
    counts=(10 1000 10000 100000) reload_counts=(100 10000 100000) memory_counts=(10000 100000)
    net_counts=(10 1000 10000 100000)
    depths=(5 20 60) open_iters=1000 reps=9 pairs=21 exec_iters=20 exec_pairs=9 conn_iters=300 controls=1 flood_secs=6 other_iters=400 settle=3 watch_rate=0
    flood_rates=(1000 2000 5000 10000 20000 40000 0)
    flood_files=60000 flood_procs=2 burst=8000
  fi
  if [ "$part" = pipeline ]; then
    counts=(10) reload_counts=() memory_counts=() net_counts=() depths=()
  fi

  W=/tmp/ltrack-bench
  cg=/sys/fs/cgroup/ltrack-bench
  run_dir=/run/ltrack-bench
  sock=$run_dir/ltrackd.sock
  pins=/sys/fs/bpf/ltrack-bench
  log=$run_dir/decisions.jsonl
  rm -rf "$W" "$run_dir"
  mkdir -p "$W" "$run_dir" "$cg"
  : >"$out"
  exec 3>>"$out"

  say() { echo "bench: [$SECONDS s] $*" >&2; }
  # emit SECTION CASE RULES DEPTH JSON: one line of the result file.
  emit() {
    printf '{"section":"%s","case":"%s","rules":%s,"depth":%s,"result":%s}\n' "$1" "$2" "$3" "$4" "${5:-null}" >&3
  }

  # ---- files the workloads touch -------------------------------------------
  echo "allowed by the policy" >"$W/allowed"
  echo "denied by the policy" >"$W/denied"
  local max_count=0 n
  for n in "${counts[@]}" "${reload_counts[@]}" "${memory_counts[@]}"; do ((n > max_count)) && max_count=$n; done
  say "creating $max_count rule targets under $W/rules"
  "$bench" mkfiles "$W/rules" "$max_count" || exit 1
  # The decision pipeline's load: a denied directory of distinct files.
  "$bench" mkfiles "$W/flood" "$flood_files" || exit 1
  declare -A tree_file=()
  local d
  for d in "${depths[@]}"; do
    # $W/tD/d/.../f: D directories between the file and / (tmp, ltrack-bench, tD, D-3 more).
    tree_file[$d]=$("$bench" mktree "$W/t$d" $((d - 3))) || exit 1
  done
  local exe=/usr/bin/true

  # The policy with N file rules (deny, on generated files: none is the file
  # opened, so an allowed open walks its whole ancestry) and N network rules
  # (deny, on generated /32s), plus the rules the workloads hit.
  policy() { # N FILE
    local n=$1 f=$2
    {
      cat <<EOF
mode = "enforce"
on_daemon_exit = "unload"
[log]
format = "json"
output_path = "$log"
max_size = 200
max_backups = 1

[profile.bench]
cgroups = ["$cg"]

[profile.bench.file]
default = "allow"
rules = [
  { action = "deny", file = "$W/denied" },
  { action = "deny", dir = "$W/flood" },
EOF
      awk -v n="$n" -v dir="$W/rules" 'BEGIN { for (i = 0; i < n; i++) printf "  { action = \"deny\", file = \"%s/%d\" },\n", dir, i }'
      cat <<EOF
]

[profile.bench.exec]
default = "allow"
rules = [ { action = "deny", file = "/usr/bin/dash" } ]

[profile.bench.network]
default = "deny"
unix = "allow"
rules = [
  { action = "allow", to = "loopback", proto = "tcp" },
EOF
      awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "  { action = \"deny\", to = \"10.%d.%d.%d/32\", proto = \"tcp\" },\n", int(i / 65536), int(i / 256) % 256, i % 256 }'
      echo "]"
    } >"$f"
  }

  # ---- workloads -------------------------------------------------------------
  # One process, REPS repetitions in a row: the unguarded baseline (no ltrack
  # loaded) and the fapolicyd comparison, which cannot be interleaved with a
  # baseline in one boot (ltrack's programs and fapolicyd cover every process).
  measure_open() { # CASE RULES DEPTH PATH
    emit open "$1" "$2" "$3" "$("$bench" open "$4" "$open_iters" "$reps")"
  }
  # Interleaved: PAIRS repetitions of an ungoverned worker (the baseline) and
  # of a worker in the governed cgroup (with --cgroup; without it an A/A
  # control), same binary, same file, taking turns.
  pair_open() { # CASE RULES DEPTH PATH [--cgroup DIR]
    local c=$1 r=$2 dp=$3 path=$4; shift 4
    emit open "$c" "$r" "$dp" "$("$bench" pairs "$@" open "$path" "$open_iters" "$pairs")"
  }
  measure_all_opens() { # none|ltrack RULES: the baseline, or the A/A control, allowed, the trees, denied
    local p=$1 r=$2 t
    if [ "$p" = none ]; then
      measure_open none "$r" 1 "$W/allowed"
      return
    fi
    pair_open ungoverned "$r" 1 "$W/allowed"
    pair_open allowed "$r" 1 "$W/allowed" --cgroup "$cg"
    for t in "${depths[@]}"; do
      pair_open allowed "$r" "$t" "${tree_file[$t]}" --cgroup "$cg"
    done
    # Last: every denied open is a record the daemon then writes on the
    # other vCPU; wait for it to finish so the next case is not measured
    # against a busy daemon. (Its baseline worker opens and reads the file.)
    pair_open denied "$r" 1 "$W/denied" --cgroup "$cg"
    quiesce
  }
  # Waits (at most 120 s) until the daemon has written every record: the
  # decision count stops moving.
  quiesce() {
    local a b i
    [ $smoke = 1 ] && return # the smoke run checks the sections, not the numbers: no time to wait
    a=$("$ctl" stats --json --socket "$sock" | jq .decisions)
    for i in $(seq 1 120); do
      sleep 1
      b=$("$ctl" stats --json --socket "$sock" | jq .decisions)
      [ "$a" = "$b" ] && return
      a=$b
    done
  }
  measure_exec() { emit exec "$1" "$2" 0 "$("$bench" pairs "${@:3}" exec "$exe" "$exec_iters" "$exec_pairs")"; }
  measure_connect() { emit connect "$1" "$2" 0 "$("$bench" pairs "${@:3}" connect 0 "$conn_iters" "$pairs")"; }

  start_daemon() { # POLICY
    "$ltrackd" --policy "$1" --socket "$sock" --pin-dir "$pins" --decision-log "$log" >"$run_dir/ltrackd.out" 2>&1 &
    daemon_pid=$!
    local i
    for i in $(seq 1 600); do
      "$ctl" status --socket "$sock" >/dev/null 2>&1 && return 0
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.5
    done
    say "ltrackd did not come up:"; cat "$run_dir/ltrackd.out" >&2
    return 1
  }
  stop_daemon() {
    kill -TERM "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
    "$ltrackd" --unload --pin-dir "$pins" >/dev/null 2>&1
  }
  memory() { # RULES
    local rss map_ids
    rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$daemon_pid/status")
    # The maps ltrack's programs use (each once), with the kernel's memlock figure.
    map_ids=$(bpftool prog show --json | jq -c '[.[] | select(.name | test("^(guard_|track_|trace_|model_)")) | .map_ids[]?] | unique')
    emit memory ltrackd "$1" 0 "$(bpftool map show --json | jq -c --argjson ids "$map_ids" \
      --argjson rss "${rss:-0}" '{rss_bytes: $rss, maps: [.[] | select(.id as $i | $ids | index($i)) | {name, type, bytes_memlock, max_entries}]}')"
  }

  # The kernel's own cost per program, at the policy of $n rules.
  kernel_stats() {
    say "per-program run time (kernel.bpf_stats_enabled)"
    sysctl -q -w kernel.bpf_stats_enabled=1
    prog_stats() { bpftool prog show --json | jq -c '[.[] | select((.name // "") | test("^(guard_|track_|trace_|model_)")) | {name, type, run_cnt: (.run_cnt // 0), run_time_ns: (.run_time_ns // 0)}]'; }
    # Each workload on its own: the counters before and after it, so the
    # report has each program's time per run for that workload alone. The
    # workloads run back to back: one's "after" is the next one's "before"
    # (bpftool is slow under emulation).
    head -c 4096 /dev/zero >"$W/written"
    local snap
    snap=$(prog_stats)
    stats_of() { # CASE DRIVER-ARGS...
      local c=$1 s0=$snap; shift
      "$bench" "$@" >/dev/null
      snap=$(prog_stats)
      emit bpf_stats "$c" "$n" 0 "{\"before\":$s0,\"after\":$snap}"
    }
    stats_of open-ungoverned open "$W/allowed" "$open_iters" 1
    # Opens for writing and shared writable mappings (the model content
    # generation's hooks; a page-long file to map, made above).
    stats_of write-ungoverned write "$W/written" "$open_iters" 1
    stats_of map-ungoverned map "$W/written" "$open_iters" 1
    stats_of open-allowed --cgroup "$cg" open "$W/allowed" "$open_iters" 1
    stats_of "open-allowed-depth-${depths[-1]}" --cgroup "$cg" open "${tree_file[${depths[-1]}]}" "$open_iters" 1
    stats_of open-denied --cgroup "$cg" open "$W/denied" "$open_iters" 1
    stats_of exec-governed --cgroup "$cg" exec "$exe" "$exec_iters" 1
    stats_of connect-governed --cgroup "$cg" connect 0 "$conn_iters" 1
    sysctl -q -w kernel.bpf_stats_enabled=0
  }

  # The decision pipeline: governed processes are refused distinct files
  # (each refusal a record of its own: nothing for the kernel to coalesce)
  # at paced rates, FLOOD_PROCS processes sharing the rate (the last rate,
  # 0: as fast as they can); the log and drop counters before and after
  # (after the daemon drained the ring buffer) say how many were written and
  # how many were lost. Then the drain: ltrackd stopped (SIGSTOP), a burst
  # of BURST distinct refusals waits in the ring buffer (it holds about
  # 9,500), ltrackd continued; the time until the last of them is in the
  # log is the pipeline's own rate, whatever the load generator manages.
  pipeline_bench() {
    say "decision pipeline: distinct denials at paced rates"
    local rate stats0 stats1 before after
    for rate in "${flood_rates[@]}"; do
      sleep "$settle"
      before=$(grep -c '"type":"decision"' "$log" 2>/dev/null)
      stats0=$("$ctl" stats --json --socket "$sock")
      "$bench" --cgroup "$cg" flood "$W/flood" "$flood_files" "$flood_secs" "$rate" "$flood_procs" >"$run_dir/flood"
      sleep "$settle"
      quiesce
      stats1=$("$ctl" stats --json --socket "$sock")
      after=$(grep -c '"type":"decision"' "$log" 2>/dev/null)
      emit pipeline "rate-$rate" "${counts[0]}" 0 "{\"rate\":$rate,\"logged_lines\":$((after - before)),\"procs\":$flood_procs,\"files\":$flood_files,\"worker\":$(cat "$run_dir/flood"),\"stats_before\":$stats0,\"stats_after\":$stats1}"
    done
    say "decision pipeline: draining a backlog of $burst records"
    sleep "$settle"
    stats0=$("$ctl" stats --json --socket "$sock")
    kill -STOP "$daemon_pid"
    "$bench" --cgroup "$cg" burst "$W/flood" "$burst" >"$run_dir/burst"
    "$bench" drain "$log" "$burst" 120 "$daemon_pid" >"$run_dir/drain"
    kill -CONT "$daemon_pid" 2>/dev/null # (drain continued it; this in case it failed)
    sleep "$settle"
    quiesce
    stats1=$("$ctl" stats --json --socket "$sock")
    emit pipeline drain "${counts[0]}" 0 "{\"burst\":$(cat "$run_dir/burst"),\"drain\":$(cat "$run_dir/drain"),\"stats_before\":$stats0,\"stats_after\":$stats1}"
  }

  if [ "$part" = kernel ]; then
    policy "${counts[0]}" "$W/policy.toml"
    start_daemon "$W/policy.toml" || exit 1
    n=${counts[0]}
    kernel_stats
    stop_daemon
    say "done"
    return 0
  fi
  if [ "$part" = pipeline ]; then
    policy "${counts[0]}" "$W/policy.toml"
    start_daemon "$W/policy.toml" || exit 1
    pipeline_bench
    stop_daemon
    say "done"
    return 0
  fi

  # ---- 1. no ltrack ------------------------------------------------------------
  say "baseline: no ltrack loaded"
  measure_all_opens none 0
  if [ "$part" = compare ]; then
    fapolicyd_bench
    apparmor_bench
    say "done"
    return 0
  fi

  # ---- 2. ltrack at each rule count ----------------------------------------------
  local all_counts
  all_counts=$(printf '%s\n' "${counts[@]}" "${reload_counts[@]}" "${memory_counts[@]}" | sort -n -u)
  local first=1 w1 w2 t0 t1 ms
  for n in $all_counts; do
    policy "$n" "$W/policy-$n.toml"
    if [ $first = 1 ]; then
      say "starting ltrackd with $n rules"
      t0=$EPOCHREALTIME
      start_daemon "$W/policy-$n.toml" || exit 1
      t1=$EPOCHREALTIME
      emit start ltrackd "$n" 0 "{\"ms\":$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')}"
      first=0
    else
      say "reload to $n rules"
      # Governed opens go on during the swap: the allowed file must never be
      # refused and the denied one never let through.
      "$bench" --cgroup "$cg" watch "$W/allowed" 3600 "$watch_rate" >"$run_dir/watch-allowed" &
      w1=$!
      "$bench" --cgroup "$cg" watch "$W/denied" 3600 "$watch_rate" >"$run_dir/watch-denied" &
      w2=$!
      sleep "$settle"
      t0=$EPOCHREALTIME
      "$ctl" reload "$W/policy-$n.toml" --socket "$sock" >"$run_dir/reload.out" 2>&1
      local rc=$?
      t1=$EPOCHREALTIME
      kill -TERM "$w1" "$w2"
      wait "$w1" "$w2"
      quiesce
      ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
      emit reload ltrackd "$n" 0 "{\"ms\":$ms,\"status\":$rc,\"allowed_during\":$(cat "$run_dir/watch-allowed"),\"denied_during\":$(cat "$run_dir/watch-denied")}"
      [ $rc = 0 ] || { say "reload to $n rules failed:"; cat "$run_dir/reload.out" >&2; exit 1; }
    fi
    if printf '%s\n' "${memory_counts[@]}" | grep -qx "$n"; then memory "$n"; fi
    if printf '%s\n' "${counts[@]}" | grep -qx "$n"; then
      say "opens at $n rules"
      measure_all_opens ltrack "$n"
    fi
    # (The smoke run keeps only the open's A/A control: forks and connects
    # are slow under emulation.)
    if printf '%s\n' "${net_counts[@]}" | grep -qx "$n"; then
      [ $controls = 1 ] && measure_connect ungoverned "$n"
      measure_connect governed "$n" --cgroup "$cg"
    fi
    if [ "$n" = "${counts[0]}" ]; then
      [ $controls = 1 ] && measure_exec ungoverned "$n"
      measure_exec governed "$n" --cgroup "$cg"
    fi
  done

  # ---- 3. the kernel's own cost per program ----------------------------------------
  kernel_stats

  # ---- 4. the decision pipeline ------------------------------------------------------
  policy "${counts[0]}" "$W/policy-flood.toml"
  "$ctl" reload "$W/policy-flood.toml" --socket "$sock" >/dev/null 2>&1 || { say "reload for the flood failed"; exit 1; }
  pipeline_bench
  stop_daemon
  # ---- 5. no ltrack again: how much the baseline drifted over the run ----------------
  say "baseline again"
  measure_open none-end 0 1 "$W/allowed"

  if [ "$part" = all ]; then
    # ---- 6. fapolicyd ---------------------------------------------------------------------
    fapolicyd_bench
    # ---- 7. AppArmor ----------------------------------------------------------------------
    apparmor_bench
  fi

  say "done"
  exec 3>&-
}

# fapolicyd (Debian's package) with the same deny/allow policy: deny opening
# $W/denied, allow everything else. Its configuration and trust database live
# on tmpfs mounted over /etc/fapolicyd and /var/lib/fapolicyd (the host root
# is read-only here); trust = file with an empty list, so start-up does not
# hash the whole package database.
fapolicyd_bench() {
  local fa=/usr/sbin/fapolicyd
  if [ ! -x $fa ]; then
    emit fapolicyd unavailable 0 0 '{"reason":"fapolicyd is not installed (bench/run installs the Debian package)"}'
    return
  fi
  say "fapolicyd"
  local uid
  uid=$(id -u fapolicyd 2>/dev/null) || uid=0
  mount -t tmpfs tmpfs /etc/fapolicyd && mount -t tmpfs tmpfs /var/lib/fapolicyd || {
    emit fapolicyd unavailable 0 0 '{"reason":"cannot mount tmpfs over /etc/fapolicyd or /var/lib/fapolicyd"}'; return; }
  chown fapolicyd: /var/lib/fapolicyd 2>/dev/null
  mkdir -p /run/fapolicyd /etc/fapolicyd/rules.d /etc/fapolicyd/trust.d
  chown fapolicyd: /run/fapolicyd 2>/dev/null
  cat >/etc/fapolicyd/fapolicyd.conf <<EOF
permissive = 0
nice_val = 10
q_size = 800
uid = fapolicyd
gid = fapolicyd
do_stat_report = 0
detailed_report = 0
db_max_size = 50
subj_cache_size = 1549
obj_cache_size = 8191
watch_fs = ext2,ext3,ext4,tmpfs,xfs,vfat,iso9660,btrfs
trust = file
integrity = none
syslog_format = rule,dec,perm,auid,pid,exe,:,path,ftype,trust
rpm_sha256_only = 0
allow_filesystem_mark = 0
EOF
  : >/etc/fapolicyd/fapolicyd.trust
  cat >/etc/fapolicyd/compiled.rules <<EOF
deny perm=open all : path=$W/denied
allow perm=any all : all
EOF
  cp /etc/fapolicyd/compiled.rules /etc/fapolicyd/fapolicyd.rules
  # Its baseline, just before it starts (fapolicyd covers every process, so
  # the two cannot take turns): the report's ratio for it is not paired.
  emit fapolicyd baseline 0 1 "$("$bench" open "$W/allowed" "$other_iters" "$reps")"
  rm -f /run/fapolicyd.pid
  $fa --no-details >"$run_dir/fapolicyd.out" 2>&1 # forks into the background once it runs
  local fpid="" i up=0
  # Ready when the denied file is refused.
  for i in $(seq 1 240); do
    [ -n "$fpid" ] || read -r fpid 2>/dev/null </run/fapolicyd.pid
    if ! cat "$W/denied" >/dev/null 2>&1; then up=1; break; fi
    [ -z "$fpid" ] || kill -0 "$fpid" 2>/dev/null || break
    sleep 0.5
  done
  if [ $up = 1 ]; then
    # fewer iterations: every open is a round trip to the daemon
    emit fapolicyd allowed 2 1 "$("$bench" open "$W/allowed" "$other_iters" "$reps")"
    emit fapolicyd denied 2 1 "$("$bench" open "$W/denied" "$other_iters" "$reps")"
  else
    emit fapolicyd unavailable 0 0 "{\"reason\":$(tail -n 5 "$run_dir/fapolicyd.out" | jq -Rsc '"did not start enforcing within 120 s: " + .')}"
  fi
  [ -n "$fpid" ] || read -r fpid 2>/dev/null </run/fapolicyd.pid
  if [ -n "$fpid" ]; then
    kill -TERM "$fpid" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.2; done
  fi
  umount /etc/fapolicyd /var/lib/fapolicyd
}

# AppArmor (Debian's apparmor_parser; the guest kernel has AppArmor active):
# a profile for a copy of the driver that allows everything but reading
# $W/denied. The original driver stays unconfined: the ungoverned case.
# AppArmor matches paths from the namespace root, which is not the chroot the
# guest runs in (tests/vm/guest/init chroots into /newroot): the profile names
# both spellings.
apparmor_bench() {
  local parser=/usr/sbin/apparmor_parser
  if [ ! -x $parser ]; then
    emit apparmor unavailable 0 0 '{"reason":"apparmor_parser is not installed (bench/run installs the Debian package)"}'
    return
  fi
  if ! grep -qw apparmor /sys/kernel/security/lsm; then
    emit apparmor unavailable 0 0 "{\"reason\":\"apparmor is not an active LSM in this kernel ($(cat /sys/kernel/security/lsm))\"}"
    return
  fi
  say "AppArmor"
  local conf=$W/apparmor confined=$W/apparmor/ltrack_bench
  mkdir -p "$conf"
  cp "$bench" "$confined"
  cat >"$conf/profile" <<EOF
abi <abi/3.0>,
profile ltrack-bench /{newroot/,}${confined#/} {
  file,
  network,
  capability,
  signal,
  ptrace,
  mount,
  unix,
  deny /{newroot/,}${W#/}/denied r,
}
EOF
  local err
  if ! err=$($parser -r -K -W "$conf/profile" 2>&1); then
    emit apparmor unavailable 0 0 "{\"reason\":$(printf 'apparmor_parser failed: %s' "$err" | jq -Rsc .)}"
    return
  fi
  # Interleaved: the unconfined driver (baseline) and the confined copy.
  emit apparmor allowed 1 1 "$("$bench" pairs --exe "$confined" open "$W/allowed" "$open_iters" "$pairs")"
  emit apparmor denied 1 1 "$("$bench" pairs --exe "$confined" open "$W/denied" "$open_iters" "$pairs")"
  $parser -R -K "$conf/profile" >/dev/null 2>&1
}

main "$@"
