// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* Process life, for the decision log's context: exec (program, arguments,
 * parent, ids, cgroup), fork and exit. Plain tracepoints, so they also load
 * on kernels without BPF LSM (ltrackd --observe-only). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} proc_events SEC(".maps");

/* Events that found the ring full (index 0), for the daemon's stats. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} proc_drops SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *d = bpf_map_lookup_elem(&proc_drops, &zero);

	if (d)
		*d += 1;
}

/* Fork and exit are the most frequent events and need no immediate
 * attention: they are submitted without waking the daemon, which drains
 * this ring before every batch of decisions it handles and at each 1 s
 * tick (policyd/daemon.cpp), so no decision is logged before the fork or
 * exec of its process. An exec always wakes it. */
static __always_inline int submit_life(__u32 type, __u32 pid, __u32 ppid)
{
	struct ltrack_proc_life *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);

	if (!e) {
		count_drop();
		return 0;
	}
	e->ts_ns = 0; /* not read: see ltrack_proc_life */
	e->type = type;
	e->pid = pid;
	e->ppid = ppid;
	e->pad = 0;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int trace_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ltrack_proc_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
	__u64 ug = bpf_get_current_uid_gid();
	unsigned long start, end, len;
	unsigned short off;

	if (!e) {
		count_drop();
		return 0;
	}
	/* Every field is written; exe and args by length, not zeroed whole. */
	e->ts_ns = 0; /* not read: see ltrack_proc_life */
	e->type = LTRACK_PROC_EXEC;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = task->real_parent->tgid;
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->start_boot_ns = task->start_boottime;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->args_len = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	off = ctx->__data_loc_filename & 0xFFFF;
	if (bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), (void *)ctx + off) < 0)
		e->exe[0] = 0;
	/* argv was just copied onto the new stack: still resident. */
	start = task->mm->arg_start;
	end = task->mm->arg_end;
	len = end > start ? end - start : 0;
	if (len >= LTRACK_ARGS_LEN)
		len = LTRACK_ARGS_LEN - 1; /* keeps a NUL at the end */
	len &= LTRACK_ARGS_LEN - 1;        /* the bound, in a form the verifier sees */
	if (len && bpf_probe_read_user(e->args, len, (void *)start) == 0)
		e->args_len = len;
	/* Always wake: a plain submit wakes only an idle consumer, and the
	 * fork record before this one was left unread on purpose. The daemon
	 * must read /proc while the program still runs (cgroup, container,
	 * its parents' programs). */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int trace_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	return submit_life(LTRACK_PROC_FORK, ctx->child_pid, bpf_get_current_pid_tgid() >> 32);
}

SEC("tracepoint/sched/sched_process_exit")
int trace_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)id != id >> 32)
		return 0; /* a thread, not the process */
	return submit_life(LTRACK_PROC_EXIT, id >> 32, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
