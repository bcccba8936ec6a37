#!/usr/bin/python3
"""Turns bench/guest.sh's results (JSON lines) into docs/performance.md and a
plot of overhead against rule count.

  /usr/bin/python3 bench/report.py RESULTS.jsonl --markdown OUT.md --plot OUT.png
      [--command CMD] [--wall-seconds S] [--kernel RELEASE] [--check]

Every time is reported as a ratio to the unguarded baseline measured in the
same boot (absolute times under emulation mean nothing), as the median of the
repetitions with the spread (fastest..slowest repetition). --check only
validates the results (every section present and well formed) and exits 1
with the reasons if not; the VM suite's BenchSmoke test relies on that too.
"""
import argparse
import json
import os
import statistics
import sys

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


class Results:
    def __init__(self, recs):
        self.recs = recs

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

    def ratio(self, r, base):
        if not r or not base:
            return None
        m, lo, hi = stats(r["result"])
        return m / base, lo / base, hi / base


def fmt_open(R, r, base):
    """An allowed open's ratio, or what refused it (a deep file past the walk bound)."""
    if r and r["result"]["ok"] == 0 and r["result"]["errno"] == 1:
        return f"refused (EPERM) {fmt(R.ratio(r, base))}"
    return fmt(R.ratio(r, base))


def fmt(rt):
    if rt is None:
        return "n/a"
    m, lo, hi = rt
    return f"{m:.3f} ({lo:.2f}-{hi:.2f})"


def pct(rt):
    return "n/a" if rt is None else f"{(rt[0] - 1) * 100:+.1f} %"


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
    depths = sorted({r["depth"] for r in R.all("open", "none") if r["depth"] > 1})

    w("# Performance\n")
    w("How much ltrack costs a process on a production host, measured in one VM boot and compared with "
      "no guard, with fapolicyd and with AppArmor in that same boot. Generated by `bench/report.py` from "
      "the results of the command below; do not edit by hand.\n")
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
    w("## How to read the numbers\n")
    w("The guest runs under QEMU's software emulation (TCG: KVM does not work on these hosts), so absolute "
      "times say nothing about real hardware; only ratios to the unguarded baseline of the same boot mean "
      "something. Each figure is the **median of the repetitions**, with the **fastest and slowest "
      "repetition** in parentheses, all divided by the baseline's median. A ratio of 1.000 is no cost; "
      "1.05 is 5 % slower. Anything else running on the host's 2 cores during the run (the emulator "
      "shares them) widens the spread.")
    if end and base_open:
        drift = stats(end["result"])[0] / base_open
        cont(f" The baseline measured again at the end of the run came out at **{drift:.3f}** of the first one: "
          "differences smaller than that drift are noise.")
    cont("\n")
    w("Rule counts: a policy with N rules has N `file` deny rules on generated files (none of them the file "
      "opened, so an allowed open walks all its ancestors and finds no rule) plus N `network` deny rules on "
      "generated /32 addresses, and the rules the workloads hit (`deny` the denied file, `allow` loopback "
      "TCP). The process is governed by a cgroup profile; ungoverned means the same binary outside that "
      "cgroup with ltrackd running.\n")

    # ---- open -----------------------------------------------------------------
    w("## open + read + close of a small file\n")
    w("The file is `/tmp/ltrack-bench/allowed` (or `.../denied`), two directories below `/`; `/tmp` is a "
      "tmpfs mounted on the 9p root, so the ancestor walk also crosses one mount.\n")
    if base_open:
        w(f"Baseline (no ltrack loaded): {stats(R.find('open', 'none', 0, 1)['result'])[0] / 1000:.1f} us per "
          "open+read+close under emulation (= 1.000).\n")
    w("| rules | ltrack loaded, not governed | governed, allowed | governed, denied (EPERM) |")
    w("|---:|---:|---:|---:|")
    for n in counts:
        w(f"| {n:,} | {fmt(R.ratio(R.find('open', 'ungoverned', n, 1), base_open))} | "
          f"{fmt(R.ratio(R.find('open', 'allowed', n, 1), base_open))} | "
          f"{fmt(R.ratio(R.find('open', 'denied', n, 1), base_open))} |")
    w("")
    w("A denied open is cheaper for the process than an allowed one in absolute terms (no read, the kernel "
      "stops at the LSM hook) but it also writes a decision record to the ring buffer.\n")
    if depths:
        w("### Deep directory trees (ancestor walk)\n")
        w("The same open of a file DEPTH directories below `/` (`/tmp/ltrack-bench/tDEPTH/d/.../d/f`), governed "
          "and allowed: the first open in a directory walks the file's DEPTH ancestors; the repetitions are answered by "
          "the directory's memo (the walk's result kept in the directory's inode storage) after one lookup of the "
          "file's own rule. Each figure is divided by the unguarded open of the same file, so it is the guard's "
          "share alone.\n")
        w("| depth | " + " | ".join(f"{n:,} rules" for n in counts) + " |")
        w("|---:|" + "---:|" * len(counts))
        for d in depths:
            b = R.base("open", d)
            w(f"| {d} | " + " | ".join(fmt_open(R, R.find("open", "allowed", n, d), b) for n in counts) + " |")
        w("")
        refused = [r for r in R.all("open", "allowed") if r["depth"] > 1 and r["result"]["ok"] == 0]
        if refused:
            w("**refused (EPERM)**: the open was denied, fail-closed, because the ancestor walk reached its bound "
              "(`LTRACK_MAX_WALK`: 64 directory levels above the file, `/` included; mount crossings do not "
              "count) before the root. The time shown is that of the refusal.\n")

    # ---- exec, connect --------------------------------------------------------------
    w("## fork + exec of a small program\n")
    base_exec = R.base("exec")
    w("`/usr/bin/true`, forked, executed and waited for.\n")
    w("| case | ratio |")
    w("|---|---:|")
    for c, label in (("ungoverned", "ltrack loaded, not governed"), ("governed", "governed (exec allowed)")):
        r = R.all("exec", c)
        w(f"| {label} | {fmt(R.ratio(r[0] if r else None, base_exec))} |")
    w("")
    w("## TCP connect to a loopback listener\n")
    base_conn = R.base("connect")
    w("connect() to 127.0.0.1 (a listener in the same process) and close, governed by a policy with N "
      "network deny rules plus `allow loopback tcp`.\n")
    w("| network rules | not governed | governed, allowed |")
    w("|---:|---:|---:|")
    for n in sorted({r["rules"] for r in R.all("connect", "governed")}):
        w(f"| {n:,} | {fmt(R.ratio(R.find('connect', 'ungoverned', n), base_conn))} | "
          f"{fmt(R.ratio(R.find('connect', 'governed', n), base_conn))} |")
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
      "(`policyd/policy/compile.cpp`, `compiler::compile_net`).\n")

    # ---- pipeline ------------------------------------------------------------------------
    w("## Decision pipeline\n")
    w("One governed process opens the denied file at a paced rate (the last row: as fast as it can), each "
      "refusal a decision record; the daemon turns the records into JSON lines in the decision log. Records "
      "written to the log per second of the flood, and the records the kernel dropped because the ring "
      "buffer was full (read after the daemon drained it).\n")
    w("| offered rate /s | decisions made /s | records logged /s | dropped |")
    w("|---:|---:|---:|---:|")
    clean = 0
    for r in R.all("pipeline"):
        res = r["result"]
        made = res["worker"]["ops"] / res["worker"]["seconds"]
        a, b = res["stats_after"], res["stats_before"]
        drops = a["ringbuf_drops"] - b["ringbuf_drops"]
        logged = (a["log"]["written"] - b["log"]["written"]) / res["worker"]["seconds"]
        if drops == 0:
            clean = max(clean, logged)
        w(f"| {res['rate'] if res['rate'] else 'unpaced'} | {made:,.0f} | {logged:,.0f} | {drops:,} |")
    w("")
    w(f"Highest rate written without a drop: **{clean:,.0f} records/s** (under emulation).\n")

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
    w("The same open+read+close, with an equivalent policy: deny opening one file, allow everything else, "
      "divided by the same baseline (no guard). ltrack's row is the smallest policy above.\n")
    w("| guard | not governed | allowed | denied |")
    w("|---|---:|---:|---:|")
    n0 = counts[0] if counts else None
    w(f"| ltrack ({n0} rules) | {fmt(R.ratio(R.find('open', 'ungoverned', n0, 1), base_open))} | "
      f"{fmt(R.ratio(R.find('open', 'allowed', n0, 1), base_open))} | "
      f"{fmt(R.ratio(R.find('open', 'denied', n0, 1), base_open))} |")
    notes = []
    for tool, label in (("fapolicyd", "fapolicyd (fanotify, every process)"), ("apparmor", "AppArmor profile")):
        un = R.find(tool, "unavailable")
        if un:
            w(f"| {label} | not measured | not measured | not measured |")
            notes.append(f"{tool} could not be measured: {un['result']['reason']}")
            continue
        ung = R.find(tool, "ungoverned")
        w(f"| {label} | {fmt(R.ratio(ung, base_open)) if ung else 'n/a (governs all)'} | "
          f"{fmt(R.ratio(R.find(tool, 'allowed'), base_open))} | {fmt(R.ratio(R.find(tool, 'denied'), base_open))} |")
    w("")
    for n in notes:
        w(f"- {n}")
    if notes:
        w("")
    w("fapolicyd decides in a user-space daemon reached through fanotify permission events: every open on a "
      "watched file system waits for a round trip to it (its caches help repeated opens). AppArmor confines "
      "by executable path with a compiled DFA over the pathname, in the kernel like ltrack.\n")

    # ---- plot + meaning ---------------------------------------------------------------------
    w("## Overhead against rule count\n")
    w(f"![overhead against rule count]({os.path.basename(args.plot)})\n")
    w("## What the numbers mean\n")
    w(meaning(R, counts, depths, base_open))
    return "\n".join(out) + "\n"


def meaning(R, counts, depths, base_open):
    lines = []
    end = R.find("open", "none-end")
    drift = abs(stats(end["result"])[0] / base_open - 1) if end and base_open else 0.0
    noise = max(drift, 0.02)
    lines.append(f"- **Noise**: the same unguarded open drifted by {drift * 100:.1f} % between the start and the "
                 f"end of the run; below, a difference under {noise * 100:.1f} % is not taken as a cost.")
    allowed = [R.ratio(R.find("open", "allowed", n, 1), base_open) for n in counts]
    ungov = [R.ratio(R.find("open", "ungoverned", n, 1), base_open) for n in counts]
    if allowed and all(allowed):
        lo, hi = min(a[0] for a in allowed), max(a[0] for a in allowed)
        flat = hi - lo <= noise
        lines.append(f"- **Governed, allowed open**: {(lo - 1) * 100:+.1f} % to {(hi - 1) * 100:+.1f} % over the "
                     f"baseline from {counts[0]:,} to {counts[-1]:,} rules: "
                     + ("flat in the rule count" if flat else "NOT flat in the rule count") +
                     ". Rules are looked up by (device, inode) in hash maps, one lookup per ancestor directory, "
                     "so the rule count does not enter the cost; the depth of the file does (below).")
    if ungov and all(ungov):
        worst = max(u[0] - 1 for u in ungov)
        lines.append(f"- **Not governed**: {', '.join(pct(u) for u in ungov)} at "
                     f"{', '.join(f'{n:,}' for n in counts)} rules: "
                     + ("within the noise, no measurable cost" if worst <= noise else "a measurable cost") +
                     ". An ungoverned task costs each program two array lookups and one task-storage lookup "
                     "(plus a walk of its cgroup ancestry the first time, when the policy has cgroup profiles).")
    if depths:
        parts = []
        for d in depths:
            r = R.ratio(R.find("open", "allowed", counts[-1], d), R.base("open", d))
            if r:
                parts.append(f"{pct(r)} at depth {d}")
        if parts:
            lines.append(f"- **Deep trees** ({counts[-1]:,} rules): {', '.join(parts)} over the same unguarded "
                         "open. The ancestor walk (one hash lookup per directory) runs once per directory; "
                         "later opens there read its result from the directory's memo, so the cost stays flat with "
                         "the depth of the file and with the size of the policy. A rename or mount anywhere on "
                         "the host, or a reload, empties every memo; the next open in each directory walks again.")
    per = {}
    for r in R.all("bpf_stats"):
        for p in prog_deltas(r["result"]):
            if p["run_cnt"]:
                per[(r["case"], p["name"])] = p["run_time_ns"] / p["run_cnt"]
    if base_open and ("open-allowed", "guard_file_open") in per:
        parts = [f"{c.replace('open-', '')} {per[(c, 'guard_file_open')]:,.0f} ns "
                 f"({per[(c, 'guard_file_open')] / base_open * 100:.1f} % of a baseline open)"
                 for c in ("open-ungoverned", "open-allowed", "open-denied") if (c, "guard_file_open") in per]
        lines.append("- **The precise figure** is the kernel's own run time of `guard_file_open` per call, less "
                     "affected by host noise than the wall-clock loops: " + ", ".join(parts) + " (shares of an emulated open; both sides are emulated).")
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
    base_open = R.base("open", 1)
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    series = [("open", "ungoverned", 1, "open, not governed"), ("open", "allowed", 1, "open, governed, allowed"),
              ("open", "denied", 1, "open, governed, denied")]
    depths = sorted({r["depth"] for r in R.all("open", "none") if r["depth"] > 1})
    ok_depths = [d for d in depths if all(r["result"]["ok"] for r in R.all("open", "allowed") if r["depth"] == d)]
    if ok_depths:  # the deepest whose opens were not refused at the walk bound
        series.append(("open", "allowed", ok_depths[-1], f"open, governed, allowed, depth {ok_depths[-1]}"))
    series.append(("connect", "governed", None, "TCP connect, governed"))
    for section, case, depth, label in series:
        rs = sorted([r for r in R.all(section, case) if depth is None or r["depth"] == depth], key=lambda r: r["rules"])
        base = R.base(section, depth) if section == "open" else R.base(section)
        pts = [(r["rules"], R.ratio(r, base)) for r in rs]
        pts = [(n, rt) for n, rt in pts if rt and n > 0]
        if not pts:
            continue
        xs = [n for n, _ in pts]
        ys = [rt[0] for _, rt in pts]
        err = [[rt[0] - rt[1] for _, rt in pts], [rt[2] - rt[0] for _, rt in pts]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=label)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_xlabel("rules in the policy (file + network each)")
    ax.set_ylabel("time / unguarded baseline (same boot)")
    ax.set_title("ltrack overhead against rule count (median, bars: fastest..slowest)")
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
