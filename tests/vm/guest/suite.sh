#!/bin/bash
# Guest-side runner of the VM test suite. Runs inside the guest, as root,
# chrooted into the host's root (shared read-only over 9p); $1 is the run's
# writable results share. Started by tests/vm/guest/init; tests/vm/run writes
# $1/config and reads back what this writes:
#   booted              guest uptime when the runner started
#   list.txt            the tests to run, one Suite.Name a line
#   list.err            why listing failed (then nothing is run)
#   index.tsv           NUM<TAB>STATUS<TAB>SECONDS<TAB>Suite.Name per finished test
#                       (STATUS: PASS, FAIL, SKIP or TIMEOUT)
#   tests/NUM.out       that test's output (stdout and stderr)
#   command.status      --command mode: the command's exit status
#   done                guest uptime when everything finished
# Progress goes to the console (the host's stdout) as "ltrack-vm: ..." lines.
set -u
# One function, parsed whole before it runs: the script lives on the host and
# may be edited while a guest is running it.
main() {
  results=$1
  # shellcheck source=/dev/null
  declare -A test_timeouts=() # per-test limits that replace $timeout (--selftest's planted hang)
  . "$results/config" # mode repo suite_bin filter timeout test_timeouts also_disabled command expected_release

  uptime_now() { cut -d' ' -f1 /proc/uptime; }
  uptime_now >"$results/booted"
  export LTRACK_VM=1 LTRACK_VM_KERNEL=$expected_release
  cd "$repo" || { echo "ltrack-vm: cannot cd to $repo in the guest"; uptime_now >"$results/done"; exit 1; }

  if [ "$mode" = command ]; then
    echo "@@ltrack-command-begin@@"
    bash -c "$command" </dev/null 2>&1
    status=$?
    echo "@@ltrack-command-end@@"
    echo "$status" >"$results/command.status"
    uptime_now >"$results/done"
    exit 0
  fi

  disabled_flag=()
  [ "$also_disabled" = 1 ] && disabled_flag=(--gtest_also_run_disabled_tests)

  if ! listing=$("$suite_bin" --gtest_list_tests --gtest_filter="$filter" 2>"$results/list.stderr"); then
    { printf '%s\n' "$listing"; cat "$results/list.stderr"; } >"$results/list.err"
    echo "ltrack-vm: listing the tests failed"
    uptime_now >"$results/done"
    exit 1
  fi
  # shellcheck source=../lib/gtest_list.sh
  . "$repo/tests/vm/lib/gtest_list.sh"
  tests=()
  mapfile -t tests < <(vm_parse_gtest_list "$also_disabled" <<<"$listing")
  : >"$results/list.txt"
  ((${#tests[@]})) && printf '%s\n' "${tests[@]}" >"$results/list.txt"
  mkdir -p "$results/tests"

  # Every test runs in a cgroup of its own. Whatever it leaves behind (a
  # daemon it started, programs it pinned) is removed before the next test, so
  # one test's failure cannot spill into the next through an enforcing guard.
  cg_root=/sys/fs/cgroup

  # Kills every process left in cgroup $1 and its children, then removes them.
  # Prints how many processes were left.
  reap_cgroup() {
    local cg=$1 left=0 pid f tries
    [ -d "$cg" ] || { echo 0; return; }
    left=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l)
    if [ "$left" -gt 0 ]; then
      if [ -w "$cg/cgroup.kill" ]; then
        echo 1 >"$cg/cgroup.kill" # 5.14+: the whole subtree at once
      fi
      # Older kernels (5.10): kill each process, again while new ones appear.
      for tries in 1 2 3 4 5 6 7 8 9 10; do
        while IFS= read -r pid; do kill -KILL "$pid" 2>/dev/null; done < <(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
        grep -q '^populated 0' "$cg/cgroup.events" 2>/dev/null && break
        sleep 0.2
      done
    fi
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    echo "$left"
  }

  # Removes whatever is pinned in bpffs (unpinning detaches a link nobody else
  # holds). Prints what was there.
  clear_bpffs() {
    local f
    for f in /sys/fs/bpf/*; do
      [ -e "$f" ] || continue
      echo "${f#/sys/fs/bpf/}"
      rm -rf "$f"
    done
  }

  total=${#tests[@]}
  i=0
  for t in "${tests[@]}"; do
    i=$((i + 1))
    num=$(printf '%03d' "$i")
    out=$results/tests/$num.out
    echo "ltrack-vm: [$i/$total] RUN     $t"
    start=$EPOCHREALTIME
    limit=${test_timeouts[$t]:-$timeout}
    cg=$cg_root/ltrack-vm-test-$num
    mkdir -p "$cg" 2>/dev/null || cg=""
    (
      [ -n "$cg" ] && echo "$BASHPID" >"$cg/cgroup.procs"
      exec timeout -k 5 "$limit" "$suite_bin" --gtest_filter="$t" "${disabled_flag[@]}" --gtest_color=no
    ) >"$out" 2>&1
    rc=$?
    end=$EPOCHREALTIME
    left=0
    [ -n "$cg" ] && left=$(reap_cgroup "$cg")
    pinned=$(clear_bpffs)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    if [ $rc = 124 ] || { [ $rc = 137 ] && awk -v s="$secs" -v t="$limit" 'BEGIN { exit !(s >= t) }'; }; then
      status=TIMEOUT
      echo "ltrack-vm: $t did not finish within $limit s and was killed" >>"$out"
    elif [ $rc = 0 ] && grep -qF "[  SKIPPED ] $t (" "$out"; then
      status=SKIP
    elif [ $rc = 0 ] && grep -qF "[       OK ] $t (" "$out"; then
      status=PASS
    elif [ $rc = 0 ]; then
      status=FAIL # e.g. the test called exit(0) before GoogleTest could judge it
      echo "ltrack-vm: $t exited with status 0 but GoogleTest did not report it as passed" >>"$out"
    else
      status=FAIL
      if [ $rc -gt 128 ]; then
        echo "ltrack-vm: $t was killed by signal $((rc - 128))" >>"$out"
      else
        echo "ltrack-vm: $t exited with status $rc" >>"$out"
      fi
    fi
    [ "$left" -gt 0 ] && echo "ltrack-vm: note: $t left $left processes running; killed them" >>"$out"
    [ -n "$pinned" ] && echo "ltrack-vm: note: $t left pinned in /sys/fs/bpf: $(echo $pinned); removed them" >>"$out"
    printf '%s\t%s\t%s\t%s\n' "$num" "$status" "$secs" "$t" >>"$results/index.tsv"
    echo "ltrack-vm: [$i/$total] $(printf '%-7s' "$status") $t ($secs s)"
  done
  uptime_now >"$results/done"
}

main "$@"
