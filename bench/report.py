#!/usr/bin/python3
"""Turns bench/guest.sh's results (JSON lines) into docs/performance.md and a
plot of overhead against rule count.

  /usr/bin/python3 bench/report.py RESULTS.jsonl --markdown OUT.md --plot OUT.png
      [--command CMD] [--wall-seconds S] [--kernel RELEASE] [--check]

Every wall-clock time is reported as a ratio to a baseline measured in the
same boot (absolute times under emulation mean nothing). A guarded case was
measured interleaved with its baseline (`ltrack_bench pairs`: baseline and
guarded repetitions take turns), so each pair gives one ratio and host drift
cancels in it; the figure is the median of the per-pair ratios with a
bootstrap 95 % confidence interval (BOOTSTRAP resamples, fixed seed: the same
results give the same page). A ratio whose whole interval lies below 1.0 (the
guarded side faster than no guard) is a measurement fault: it is listed as
one, never printed as a result. --check only validates the results (every
section present and well formed) and exits 1 with the reasons if not; the VM
suite's BenchSmoke test relies on that too.
"""
import argparse
import json
import os
import random
import statistics
import sys

BOOTSTRAP = 2000  # resamples per interval
SEED = 19  # each interval draws from its own generator with this seed

SECTIONS = ["open", "exec", "connect", "start", "reload", "memory", "bpf_stats", "pipeline", "fapolicyd", "apparmor"]


def load(path):
    recs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                recs.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}:{e.colno}: error: not JSON: {e.msg}")
    return recs


def check(recs, sections=SECTIONS):
    """Reasons the results are incomplete or malformed (empty if fine)."""
    bad = []
    have = {r.get("section") for r in recs}
    for s in sections:
        if s not in have:
            bad.append(f"section {s} is missing")
    for r in recs:
        res = r.get("result")
        if r.get("section") in ("open", "exec", "connect") or (
                r.get("section") in ("fapolicyd", "apparmor") and r.get("case") != "unavailable"):
            if not isinstance(res, dict) or not res.get("ns_per_op") or not all(x > 0 for x in res["ns_per_op"]):
                bad.append(f"{r.get('section')}/{r.get('case')}/{r.get('rules')}: no timings ({res})")
                continue
            base = res.get("baseline")
            if base is not None:  # interleaved: the baseline worker's series, one per pair
                if (not base.get("ns_per_op") or len(base["ns_per_op"]) != len(res["ns_per_op"])
                        or not all(x > 0 for x in base["ns_per_op"])):
                    bad.append(f"{r['section']}/{r['case']}/{r['rules']}: the baseline series does not pair up ({res})")
                    continue
                walk = r.get("section") == "open" and r.get("depth", 0) > 1
                if base["failed"] != 0 and not walk:
                    bad.append(f"{r['section']}/{r['case']}/{r['rules']}: {base['failed']} baseline operations "
                               f"failed (errno {base['errno']}): the baseline worker is not unguarded")
            denied = r.get("case") == "denied"
            # ltrack and fapolicyd refuse with EPERM, AppArmor with EACCES.
            if denied and (res["ok"] != 0 or res["errno"] not in (1, 13)):
                bad.append(f"{r['section']}/denied/{r['rules']}: the denied open was not refused ({res})")
            walk_limit = r.get("section") == "open" and r.get("depth", 0) > 1 and res["ok"] == 0 and res["errno"] == 1
            if not denied and res["failed"] != 0 and not walk_limit:
                bad.append(f"{r['section']}/{r['case']}/{r['rules']}: {res['failed']} operations failed (errno {res['errno']})")
        if r.get("section") == "reload":
            if res.get("status") != 0:
                bad.append(f"reload to {r['rules']} rules failed")
            elif res["allowed_during"]["failed"] or res["denied_during"]["ok"]:
                bad.append(f"reload to {r['rules']} rules: wrong decisions during the swap ({res})")
        if r.get("section") == "bpf_stats" and not any(p["run_cnt"] for p in prog_deltas(res)):
            bad.append(f"bpf_stats/{r.get('case')}: no ltrack program ran (is kernel.bpf_stats_enabled honoured?)")
    return bad


def prog_deltas(res):
    """Per program: runs and run time between the before and after snapshots."""
    before = {p["name"]: p for p in res["before"]}
    out = []
    for p in res["after"]:
        b = before.get(p["name"], {"run_cnt": 0, "run_time_ns": 0})
        out.append({"name": p["name"], "type": p["type"], "run_cnt": p["run_cnt"] - b["run_cnt"],
                    "run_time_ns": p["run_time_ns"] - b["run_time_ns"]})
    return out


def stats(res):
    xs = res["ns_per_op"]
    return statistics.median(xs), min(xs), max(xs)


def bootstrap(xs, stat):
    """The 2.5th and 97.5th percentiles of stat over BOOTSTRAP resamples of xs."""
    rng = random.Random(SEED)
    vals = sorted(stat(rng.choices(xs, k=len(xs))) for _ in range(BOOTSTRAP))
    return vals[int(0.025 * BOOTSTRAP)], vals[int(0.975 * BOOTSTRAP) - 1]


def paired_ratio(res):
    """(median, low, high) of the per-pair ratios guarded / baseline, 95 % bootstrap interval."""
    rs = [b / a for a, b in zip(res["baseline"]["ns_per_op"], res["ns_per_op"])]
    lo, hi = bootstrap(rs, statistics.median)
    return statistics.median(rs), lo, hi


def unpaired_ratio(res, base):
    """Two series measured one after the other (fapolicyd): the ratio of the medians, each series
    resampled on its own for the interval (drift between them is NOT cancelled)."""
    xs, ys = res["ns_per_op"], base["ns_per_op"]
    rng = random.Random(SEED)
    vals = sorted(statistics.median(rng.choices(xs, k=len(xs))) / statistics.median(rng.choices(ys, k=len(ys)))
                  for _ in range(BOOTSTRAP))
    return (statistics.median(xs) / statistics.median(ys), vals[int(0.025 * BOOTSTRAP)],
            vals[int(0.975 * BOOTSTRAP) - 1])


class Results:
    def __init__(self, recs):
        self.recs = recs
        self.faults = []  # (what, (median, low, high)): ratios not printed as results

    def find(self, section, case=None, rules=None, depth=None):
        for r in self.recs:
            if r["section"] != section:
                continue
            if case is not None and r["case"] != case:
                continue
            if rules is not None and r["rules"] != rules:
                continue
            if depth is not None and r["depth"] != depth:
                continue
            return r
        return None

    def all(self, section, case=None):
        return [r for r in self.recs if r["section"] == section and (case is None or r["case"] == case)]

    def base(self, section, depth=None):
        r = self.find(section, "none", 0, depth)
        return stats(r["result"])[0] if r else None

    def ratio(self, r):
        """An interleaved record's median per-pair ratio and its 95 % interval, or None."""
        if not r or "baseline" not in r["result"]:
            return None
        return paired_ratio(r["result"])

    def result(self, r, what, rt=None, refusal=False):
        """A table cell: the ratio with its interval, or "measurement fault" (listed below the
        tables) when the whole interval lies below 1.0. Not for a refusal (refusal=True): the
        refused open skips the read and close its baseline does, so it may well be faster."""
        rt = rt if rt is not None else self.ratio(r)
        if rt is None:
            return "n/a"
        if rt[2] < 1.0 and not refusal:
            if what not in [f for f, _ in self.faults]:
                self.faults.append((what, rt))
            return f"measurement fault ({[f for f, _ in self.faults].index(what) + 1})"
        return fmt(rt)


def fmt_open(R, r, what):
    """An allowed open's ratio, or what refused it (a deep file past the walk bound)."""
    if r and r["result"]["ok"] == 0 and r["result"]["errno"] == 1:
        return f"refused (EPERM) {fmt(R.ratio(r))}"
    return R.result(r, what)


def fmt(rt):
    if rt is None:
        return "n/a"
    m, lo, hi = rt
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def pct(rt):
    return "n/a" if rt is None else f"{(rt[0] - 1) * 100:+.1f} %"


def valid(rt):
    """A ratio that is a result (not missing, not a fault)."""
    return rt is not None and rt[2] >= 1.0


def mib(b):
    return f"{b / 1048576:.1f} MiB"


def report(recs, args):
    R = Results(recs)
    out = []
    w = out.append

    def cont(text):  # continues the paragraph just written
        out[-1] += text
    base_open = R.base("open", 1)
    end = R.find("open", "none-end")
    counts = sorted({r["rules"] for r in R.all("open", "allowed")})
    depths = sorted({r["depth"] for r in R.all("open", "allowed") if r["depth"] > 1})

    w("# Performance\n")
    w("How much ltrack costs a process on a production host, measured in one VM boot and compared with "
      "no guard, with fapolicyd and with AppArmor in that same boot. Generated by `bench/report.py` from "
      "the results of the command below; do not edit by hand.\n")
    w("## How the numbers are made\n")
    w("The guest runs under QEMU's software emulation (TCG: KVM does not work on these hosts) on a 2-core host "
      "shared with other work, so absolute times say nothing about real hardware and drift during a run by "
      "more than the cost being measured. Three things make the figures below trustworthy anyway:\n")
    w("1. **Interleaving.** Every guarded case is measured against its baseline in the same moment: "
      "`ltrack_bench pairs` starts two workers of the same binary on the same file, the baseline (an "
      "ungoverned process) and the guarded one (the same binary moved into the governed cgroup before it "
      "executes; for AppArmor, the confined copy), warms both, then lets them take turns, one repetition "
      "each, in a random order fixed by a seed (A B, B A, ...). Only one worker runs at a time, and both are "
      "pinned to the same vCPU (on a busy host the two vCPUs get unequal shares of it). Whatever "
      "the host does hits both members of a pair alike, so the **per-pair ratio** guarded / baseline "
      "cancels the drift.")
    w("2. **Median and interval.** Each figure is the **median of the per-pair ratios** with its **95 % "
      f"bootstrap confidence interval** in brackets ({BOOTSTRAP:,} resamples of the pairs, fixed seed, so the "
      "same results give the same page). 1.000 is no cost; 1.05 is 5 % slower. An interval that contains "
      "1.0 means no cost was measurable at this precision.")
    w("3. **Faults are not results.** A guard cannot make a process faster. A ratio whose whole interval "
      "lies below 1.0 therefore shows a broken measurement (the pairing did not hold, or something "
      "disturbed one side only); it is printed as *measurement fault* and listed with its numbers under "
      "[Measurement faults](#measurement-faults), never as a result. (Not for a refused open: its baseline "
      "reads the file, it does not, so it may be faster.) Each table of ltrack's cases also "
      "has an **A/A control**: both workers ungoverned, whose ratio must come out 1.0 within its interval.\n")
    w("Not everything can take turns in one boot. ltrack's programs, once loaded, run for every process, "
      "so *ltrack loaded, process not governed* against *no ltrack at all* is not a wall-clock ratio here: "
      "its cost is the kernel's own run time of the programs for an ungoverned process, in the "
      "[per-program table](#the-kernels-own-cost-per-program), the figure that stays stable under "
      "emulation. fapolicyd likewise covers every process: its row is measured after its own baseline, "
      "unpaired, and says so.")
    if end and base_open:
        drift = stats(end["result"])[0] / base_open
        cont(f" How much an unpaired comparison can be off: the unguarded open measured at the start of the "
             f"run and again at its end (same process, same file, no guard) came out at **{drift:.3f}** of "
             "the first.")
    cont("\n")
    w("## Reproduce\n")
    w("```sh\n" + (args.command or "bench/run") + "\n```\n")
    w("From a fresh clone, as root on Debian 12: it runs `scripts/setup.sh` (packages and build), installs "
      "`fapolicyd`, `apparmor` and `python3-matplotlib`, boots Debian's kernel under QEMU with "
      "`tests/vm/run --command`, runs `bench/guest.sh` in the guest (the workloads are `bench/driver.cpp`, "
      "built as `ltrack_bench`), and writes this page and `docs/performance.png` with `bench/report.py`. "
      "The raw results stay in `<build>/bench/results.jsonl`.")
    if args.wall_seconds:
        cont(f" This run took {args.wall_seconds / 60:.1f} minutes of wall time (build already done)"
             f" on a 2-core host{', kernel ' + args.kernel if args.kernel else ''}.")
    if args.revision:
        cont(f" Measured: ltrack at `{args.revision}`.")
    cont("\n")
    w("Rule counts: a policy with N rules has N `file` deny rules on generated files (none of them the file "
      "opened, so an allowed open walks all its ancestors and finds no rule) plus N `network` deny rules on "
      "generated /32 addresses, and the rules the workloads hit (`deny` the denied file, `allow` loopback "
      "TCP). The process is governed by a cgroup profile.\n")

    # ---- open -----------------------------------------------------------------
    w("## open + read + close of a small file\n")
    w("The file is `/tmp/ltrack-bench/allowed` (or `.../denied`), two directories below `/`; `/tmp` is a "
      "tmpfs mounted on the 9p root, so the ancestor walk also crosses one mount. Each ratio: the governed "
      "worker against the ungoverned one, interleaved, with ltrackd running.\n")
    if base_open:
        w(f"For scale: {base_open / 1000:.1f} us per open+read+close under emulation with no ltrack loaded.\n")
    w("| rules | A/A control (both ungoverned) | governed, allowed | governed, denied (EPERM) |")
    w("|---:|---:|---:|---:|")
    for n in counts:
        w(f"| {n:,} | {R.result(R.find('open', 'ungoverned', n, 1), f'open, A/A control, {n:,} rules')} | "
          f"{R.result(R.find('open', 'allowed', n, 1), f'open, governed, allowed, {n:,} rules')} | "
          f"{R.result(R.find('open', 'denied', n, 1), f'open, governed, denied, {n:,} rules', refusal=True)} |")
    w("")
    w("The denied column is not a guard's overhead: its baseline worker, ungoverned, opens, reads and closes "
      "the file, while the governed one is refused at the LSM hook (no read, no close) and writes a decision "
      "record to the ring buffer. It can come out below 1.0 without a fault, so the fault rule does not apply "
      "to it; the cost of a refusal itself is `guard_file_open` in the open-denied rows of the per-program "
      "table.\n")
    if depths:
        w("### Deep directory trees (ancestor walk)\n")
        w("The same open of a file DEPTH directories below `/` (`/tmp/ltrack-bench/tDEPTH/d/.../d/f`), governed "
          "and allowed, against an ungoverned worker opening the same file: the first open in a directory walks "
          "the file's DEPTH ancestors; the repetitions are answered by the directory's memo (the walk's result "
          "kept in the directory's inode storage) after one lookup of the file's own rule.\n")
        w("| depth | " + " | ".join(f"{n:,} rules" for n in counts) + " |")
        w("|---:|" + "---:|" * len(counts))
        for d in depths:
            w(f"| {d} | " + " | ".join(fmt_open(R, R.find("open", "allowed", n, d), f"open at depth {d}, {n:,} rules")
                                       for n in counts) + " |")
        w("")
        refused = [r for r in R.all("open", "allowed") if r["depth"] > 1 and r["result"]["ok"] == 0]
        if refused:
            w("**refused (EPERM)**: the open was denied, fail-closed, because the ancestor walk reached its bound "
              "(`LTRACK_MAX_WALK`: 64 directory levels above the file, `/` included; mount crossings do not "
              "count) before the root. The time shown is that of the refusal.\n")

    # ---- exec, connect --------------------------------------------------------------
    w("## fork + exec of a small program\n")
    w("`/usr/bin/true`, forked, executed and waited for, by the governed worker against the ungoverned one.\n")
    w("| case | ratio |")
    w("|---|---:|")
    for c, label in (("ungoverned", "A/A control (both ungoverned)"), ("governed", "governed (exec allowed)")):
        r = R.all("exec", c)
        w(f"| {label} | {R.result(r[0] if r else None, f'fork+exec, {label}')} |")
    w("")
    w("## TCP connect to a loopback listener\n")
    w("connect() to 127.0.0.1 (a listener thread in the same worker) and close, governed by a policy with N "
      "network deny rules plus `allow loopback tcp`, against the ungoverned worker.\n")
    w("| network rules | A/A control (both ungoverned) | governed, allowed |")
    w("|---:|---:|---:|")
    for n in sorted({r["rules"] for r in R.all("connect", "governed")}):
        w(f"| {n:,} | {R.result(R.find('connect', 'ungoverned', n), f'connect, A/A control, {n:,} rules')} | "
          f"{R.result(R.find('connect', 'governed', n), f'connect, governed, {n:,} rules')} |")
    w("")

    # ---- bpf_stats --------------------------------------------------------------------
    w("## The kernel's own cost per program\n")
    bss = R.all("bpf_stats")
    if bss:
        w(f"With `kernel.bpf_stats_enabled=1` (policy of {bss[0]['rules']:,} rules), each workload run once on "
          "its own: the runs of each ltrack program during it and `run_time_ns / run_cnt`, the kernel's own "
          "accounting of the time spent in the program (without the hook's surroundings), and that time as a "
          "share of one baseline open+read+close. Programs that did not run are left out.\n")
        w("| workload | program | runs | ns per run | share of a baseline open |")
        w("|---|---|---:|---:|---:|")
        for r in bss:
            for p in sorted(prog_deltas(r["result"]), key=lambda p: -p["run_cnt"]):
                if not p["run_cnt"]:
                    continue
                per = p["run_time_ns"] / p["run_cnt"]
                share = f"{per / base_open * 100:.1f} %" if base_open else "n/a"
                w(f"| {r['case']} | `{p['name']}` | {p['run_cnt']:,} | {per:,.0f} | {share} |")
        w("")
        w("Measured separately, not yet by `bench/run`: the socket hooks (lsm/net.bpf.c) for an ungoverned "
          "process, the same way (`kernel.bpf_stats_enabled=1`, `run_time_ns / run_cnt`) in one 6.1 guest boot "
          "under TCG on a contended host (two guests and a build at once), 20,000 `socket(AF_INET, SOCK_DGRAM)` "
          "and 20,000 unconnected UDP `sendto`: `guard_socket_create` 5,623 ns per run, `guard_socket_sendmsg` "
          "3,530 ns per run, against 8,621 ns for an ungoverned `guard_file_open` in the same boot: the socket "
          "hooks cost less than an ungoverned open's check (one task-storage lookup and the policy view, then "
          "return).\n")
        # Hand-measured before/after of the hot programs (bench/hookcost.sh --hot), kept verbatim.
        w(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "hotcost.md")).read())

    # ---- reload -------------------------------------------------------------------------
    w("## Reload\n")
    w("`ltrackctl reload` of a policy with N file + N network rules (compile, fill the inactive slot, swap, "
      "clear the old one), timed from the client. Two governed processes opened files throughout: the "
      "allowed one must never be refused and the denied one never let through while the swap happens.\n")
    st = R.find("start")
    if st:
        w(f"ltrackd's start with the first policy ({st['rules']:,} rules), to its control socket answering: "
          f"{st['result']['ms'] / 1000:.1f} s.\n")
    w("| rules | reload (s, under emulation) | allowed opens during it (refused) | denied opens during it (let through) |")
    w("|---:|---:|---:|---:|")
    for r in sorted(R.all("reload"), key=lambda r: r["rules"]):
        res = r["result"]
        a, d = res["allowed_during"], res["denied_during"]
        w(f"| {r['rules']:,} | {res['ms'] / 1000:.2f} | {a['ops']:,} ({a['failed']}) | {d['ops']:,} ({d['ok']}) |")
    w("")

    w("Found and fixed by this benchmark: the policy compiler folded each network prefix's enclosing rules "
      "by scanning every prefix for every prefix (quadratic). A reload of 10,000 file + 10,000 network rules "
      "took 109 s in the first run and 100,000 did not finish in 10 minutes; it now looks up the enclosing "
      "prefixes directly (one lookup per prefix length) and compiles the same kernel entries "
      "(`policy/compile.cpp`, `compiler::compile_net`).\n")

    # ---- pipeline ------------------------------------------------------------------------
    w("## Decision pipeline\n")
    w(pipeline_section(R))

    # ---- memory --------------------------------------------------------------------------
    w("## Memory\n")
    w("| rules (file + network) | ltrackd resident | BPF maps (memlock, all ltrack maps) | largest maps |")
    w("|---:|---:|---:|---|")
    for r in sorted(R.all("memory"), key=lambda r: r["rules"]):
        res = r["result"]
        maps = res["maps"]
        total = sum(m.get("bytes_memlock", 0) for m in maps)
        top = sorted(maps, key=lambda m: -m.get("bytes_memlock", 0))[:3]
        w(f"| {r['rules']:,} | {mib(res['rss_bytes'])} | {mib(total)} | "
          + ", ".join(f"`{m['name']}` {mib(m.get('bytes_memlock', 0))}" for m in top) + " |")
    w("")
    w("Hash maps are preallocated to their maximum size (131,072 rules), so the BPF map memory does not grow "
      "with the rule count; the LPM trie of network rules is allocated on demand.\n")

    # ---- comparison -----------------------------------------------------------------------
    w("## Compared with fapolicyd and AppArmor\n")
    w("The same open+read+close, with an equivalent policy: deny opening one file, allow everything else. "
      "ltrack's row is the smallest policy above and AppArmor's the confined copy of the driver, each "
      "interleaved with an unguarded worker; fapolicyd covers every process, so its row is the ratio to its "
      "own baseline measured just before it started (not paired: the interval does not cancel drift).\n")
    w("| guard | allowed | denied | measured |")
    w("|---|---:|---:|---|")
    n0 = counts[0] if counts else None
    if n0 is not None:
        w(f"| ltrack ({n0} rules) | {R.result(R.find('open', 'allowed', n0, 1), f'open, governed, allowed, {n0:,} rules')} | "
          f"{R.result(R.find('open', 'denied', n0, 1), f'open, governed, denied, {n0:,} rules', refusal=True)} | interleaved |")
    notes = []
    for tool, label in (("fapolicyd", "fapolicyd (fanotify, every process)"), ("apparmor", "AppArmor profile")):
        un = R.find(tool, "unavailable")
        if un:
            w(f"| {label} | not measured | not measured | |")
            notes.append(f"{tool} could not be measured: {un['result']['reason']}")
            continue
        if tool == "fapolicyd":
            base = R.find(tool, "baseline") or end or R.find("open", "none", 0, 1)
            cells = [R.result(None, f"fapolicyd, {c} (unpaired)",
                              unpaired_ratio(R.find(tool, c)["result"], base["result"]) if base and R.find(tool, c) else None,
                              refusal=c == "denied")
                     for c in ("allowed", "denied")]
            w(f"| {label} | {cells[0]} | {cells[1]} | after its baseline, unpaired |")
        else:
            w(f"| {label} | {R.result(R.find(tool, 'allowed'), 'AppArmor, allowed')} | "
              f"{R.result(R.find(tool, 'denied'), 'AppArmor, denied', refusal=True)} | interleaved |")
    w("")
    for n in notes:
        w(f"- {n}")
    if notes:
        w("")
    w("fapolicyd decides in a user-space daemon reached through fanotify permission events: every open on a "
      "watched file system waits for a round trip to it (its caches help repeated opens). AppArmor confines "
      "by executable path with a compiled DFA over the pathname, in the kernel like ltrack.\n")

    # ---- faults ------------------------------------------------------------------------------
    w("## Measurement faults\n")
    if R.faults:
        w("These ratios came out below 1.0 with their whole 95 % interval, a guarded process faster than an "
          "unguarded one: the measurement is broken there, and the cell above says *measurement fault* instead "
          "of a figure. They are listed so the fault can be found, not as results.\n")
        for i, (what, (m, lo, hi)) in enumerate(R.faults, 1):
            w(f"{i}. {what}: median per-pair ratio {m:.3f}, 95 % interval [{lo:.3f}, {hi:.3f}]")
        w("")
    else:
        w("None: no ratio's interval lies entirely below 1.0.\n")

    # ---- plot + meaning ---------------------------------------------------------------------
    w("## Overhead against rule count\n")
    w(f"![overhead against rule count]({os.path.basename(args.plot)})\n")
    w("## What the numbers mean\n")
    w(meaning(R, counts, depths, base_open))
    return "\n".join(out) + "\n"


def pipeline_section(R):
    """The decision pipeline's table: distinct denials at paced rates, and the drain of a backlog."""
    out = []
    w = out.append
    rows = [r for r in R.all("pipeline") if r["case"].startswith("rate-")]
    procs = {r["result"].get("procs", 1) for r in rows}
    files = {r["result"].get("files") for r in rows}
    w("Governed processes are refused distinct files of a denied directory"
      + (f" ({', '.join(f'{f:,}' for f in sorted(f for f in files if f))} files, "
         f"{'/'.join(str(p) for p in sorted(procs))} processes sharing the rate)" if files - {None} else "")
      + " at a paced rate (the last row: as fast as they can), so every refusal is a decision of its own: the kernel "
      "coalesces only repeats of one process, object and rule within a second, and none happen here (the "
      "*coalesced* column shows it). The daemon decodes each record, joins it with its process and rule and "
      "writes it to the decision log as a JSON line. Records the log took per second of the flood (counted "
      "after the daemon caught up), and the records the kernel dropped because the ring buffer was full.\n")
    w("| offered rate /s | decisions made /s | records logged /s | coalesced | dropped |")
    w("|---:|---:|---:|---:|---:|")
    clean = 0
    for r in rows:
        res = r["result"]
        secs = res["worker"]["seconds"]
        made = res["worker"]["ops"] / secs
        a, b = res["stats_after"], res["stats_before"]
        drops = a["ringbuf_drops"] - b["ringbuf_drops"]
        logged = (a["log"]["written"] - b["log"]["written"]) / secs
        folded = (a["decisions"] - b["decisions"]) - (a["records"] - b["records"])
        if drops == 0 and folded == 0:
            clean = max(clean, logged)
        w(f"| {res['rate'] if res['rate'] else 'unpaced'} | {made:,.0f} | {logged:,.0f} | {folded:,} | {drops:,} |")
    w("")
    w(f"Highest rate logged without a drop: **{clean:,.0f} records/s** (under emulation; the offered rate is "
      "what the governed processes managed, which the emulated opens limit).\n")
    d = R.find("pipeline", "drain")
    if d:
        res = d["result"]
        n, secs = res["drain"]["lines"], res["drain"]["seconds"]
        a, b = res["stats_after"], res["stats_before"]
        drops = a["ringbuf_drops"] - b["ringbuf_drops"]
        rate = n / secs if secs > 0 else 0
        w(f"**The pipeline's own rate** (the load generator aside): with ltrackd stopped (SIGSTOP), "
          f"{res['burst']['ops']:,} distinct refusals were made and waited in the ring buffer; ltrackd was "
          f"continued and wrote {n:,} of them to the log in {secs:.3f} s: **{rate:,.0f} records/s**"
          f" ({drops:,} dropped). Its host-native rate, without emulation, is in "
          "[performance-host.md](performance-host.md#decision-pipeline).\n")
    return "\n".join(out) + "\n"


def meaning(R, counts, depths, base_open):
    lines = []
    controls = [(f"open at {n:,} rules", R.ratio(R.find("open", "ungoverned", n, 1))) for n in counts]
    controls += [(f"connect at {r['rules']:,} rules", R.ratio(r)) for r in R.all("connect", "ungoverned")]
    controls += [("fork+exec", R.ratio(r)) for r in R.all("exec", "ungoverned")]
    controls = [(w, rt) for w, rt in controls if rt]
    if controls:
        off = [(w, rt) for w, rt in controls if not rt[1] <= 1.0 <= rt[2]]
        lines.append(f"- **A/A controls** (both workers ungoverned): medians {min(rt[0] for _, rt in controls):.3f} to "
                     f"{max(rt[0] for _, rt in controls):.3f}; "
                     + ("every interval contains 1.0, so the pairing holds: a guarded ratio whose interval excludes "
                        "1.0 is a cost, not noise." if not off else
                        "NOT every interval contains 1.0 (" + ", ".join(f"{w} {fmt(rt)}" for w, rt in off) +
                        "): the two workers were not treated alike there, so the guarded ratios of that table "
                        "carry that much error as well."))
    allowed = [(n, R.ratio(R.find("open", "allowed", n, 1))) for n in counts]
    allowed = [(n, rt) for n, rt in allowed if valid(rt)]
    if allowed:
        lo, hi = min(rt[0] for _, rt in allowed), max(rt[0] for _, rt in allowed)
        flat = max(rt[1] for _, rt in allowed) <= min(rt[2] for _, rt in allowed)
        lines.append(f"- **Governed, allowed open**: {(lo - 1) * 100:+.1f} % to {(hi - 1) * 100:+.1f} % (medians) "
                     f"over an ungoverned open, at {', '.join(f'{n:,}' for n, _ in allowed)} rules: "
                     + ("flat in the rule count (the intervals overlap)" if flat
                        else "the intervals do not all overlap, so the rule count may matter") +
                     ". Rules are looked up by (device, inode) in hash maps, one lookup per ancestor directory, "
                     "so the rule count does not enter the cost; the depth of the file does (below).")
    if depths and counts:
        parts = []
        for d in depths:
            rt = R.ratio(R.find("open", "allowed", counts[-1], d))
            if valid(rt):
                parts.append(f"{pct(rt)} at depth {d}")
        if parts:
            lines.append(f"- **Deep trees** ({counts[-1]:,} rules): {', '.join(parts)} over the same open by an "
                         "ungoverned worker. The ancestor walk (one hash lookup per directory) runs once per "
                         "directory; later opens there read its result from the directory's memo. A rename or "
                         "mount anywhere on the host, or a reload, empties every memo; the next open in each "
                         "directory walks again.")
    conns = [(r["rules"], R.ratio(r)) for r in sorted(R.all("connect", "governed"), key=lambda r: r["rules"])]
    conns = [(n, rt) for n, rt in conns if valid(rt)]
    if conns:
        lines.append("- **Governed TCP connect**: " + ", ".join(f"{rt[0]:.2f}x at {n:,} rules" for n, rt in conns) +
                     " the time of an ungoverned connect (median per-pair ratios).")
    per = {}
    for r in R.all("bpf_stats"):
        for p in prog_deltas(r["result"]):
            if p["run_cnt"]:
                per[(r["case"], p["name"])] = p["run_time_ns"] / p["run_cnt"]
    if base_open and ("open-allowed", "guard_file_open") in per:
        parts = [f"{c.replace('open-', '')} {per[(c, 'guard_file_open')]:,.0f} ns "
                 f"({per[(c, 'guard_file_open')] / base_open * 100:.1f} % of a baseline open)"
                 for c in ("open-ungoverned", "open-allowed", "open-denied") if (c, "guard_file_open") in per]
        lines.append("- **The stable figure** is the kernel's own run time of `guard_file_open` per call, hardly "
                     "affected by host noise, and the only figure here for a process that is not governed "
                     "(ltrack loaded, no profile): " + ", ".join(parts) + " (shares of an emulated open; both sides are emulated).")
    trace = [(c, n, v) for (c, n), v in per.items() if n.startswith("trace_") and c == "exec-governed"]
    if trace and base_open:
        bprm = per.get(('exec-governed', 'guard_bprm_check'), 0)
        more = max(v for c, n, v in trace) > bprm
        lines.append("- **The process-life tracepoints** " + ("cost more than the guards" if more else "cost no more than the guards")
                     + ": per fork+exec, " + ", ".join(f"`{n}` {v / 1000:,.0f} us" for c, n, v in sorted(trace)) +
                     " of program run time (the guards: `guard_bprm_check` "
                     f"{bprm / 1000:,.0f} us). They run for every process on the host, governed or not"
                     + ("; they are the first place to look for ltrack's cost on a fork-heavy host (`tracing/`)"
                        if more else "") + ". Fork and exit send a 24-byte record and wake nobody; an exec sends "
                     "its program, arguments and ids and wakes ltrackd (so it reads `/proc` while the program "
                     "runs), and that wakeup, an interrupt, is slow under emulation.")
    lines.append("- **Denied** opens include reserving and filling a decision record (process, parent, path) "
                 "and the daemon writing it to the log on the other vCPU; in a real workload denials are rare.")
    lines.append("- The per-program table is the kernel's own accounting of the time spent in each program, "
                 "without the workload around it: the most direct measure of ltrack's cost per hook call.")
    return "\n".join(lines) + "\n"


def plot(recs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    R = Results(recs)
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    series = [("open", "ungoverned", 1, "open, A/A control (both ungoverned)"),
              ("open", "allowed", 1, "open, governed, allowed")]
    depths = sorted({r["depth"] for r in R.all("open", "allowed") if r["depth"] > 1})
    ok_depths = [d for d in depths if all(r["result"]["ok"] for r in R.all("open", "allowed") if r["depth"] == d)]
    if ok_depths:  # the deepest whose opens were not refused at the walk bound
        series.append(("open", "allowed", ok_depths[-1], f"open, governed, allowed, depth {ok_depths[-1]}"))
    series.append(("connect", "governed", None, "TCP connect, governed"))
    for section, case, depth, label in series:
        rs = sorted([r for r in R.all(section, case) if depth is None or r["depth"] == depth], key=lambda r: r["rules"])
        # Measurement faults are not results: left out of the plot as out of the tables.
        pts = [(r["rules"], R.ratio(r)) for r in rs]
        pts = [(n, rt) for n, rt in pts if valid(rt) and n > 0]
        if not pts:
            continue
        xs = [n for n, _ in pts]
        ys = [rt[0] for _, rt in pts]
        err = [[rt[0] - rt[1] for _, rt in pts], [rt[2] - rt[0] for _, rt in pts]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=label)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_xlabel("rules in the policy (file + network each)")
    ax.set_ylabel("guarded / ungoverned, per interleaved pair")
    ax.set_title("ltrack overhead against rule count (median ratio, bars: 95 % bootstrap interval)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--markdown")
    ap.add_argument("--plot")
    ap.add_argument("--command")
    ap.add_argument("--wall-seconds", type=int, default=0)
    ap.add_argument("--kernel", default="")
    ap.add_argument("--revision", default="", help="what was measured (git describe)")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--sections", help="with --check: the sections that must be there (comma-separated; default all)")
    args = ap.parse_args()
    recs = load(args.results)
    bad = check(recs, args.sections.split(",") if args.sections else SECTIONS)
    if bad:
        for b in bad:
            print(f"{args.results}: error: {b}", file=sys.stderr)
        return 1
    if args.check:
        print(f"{args.results}: {len(recs)} results, every section present")
        return 0
    if not args.markdown or not args.plot:
        ap.error("--markdown and --plot are needed (or --check)")
    with open(args.markdown, "w") as f:
        f.write(report(recs, args))
    plot(recs, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
