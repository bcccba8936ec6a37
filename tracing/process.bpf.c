// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
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

static __always_inline struct ltrack_proc_event *reserve(__u32 type)
{
	struct ltrack_proc_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
	__u32 zero = 0;

	if (!e) {
		__u64 *d = bpf_map_lookup_elem(&proc_drops, &zero);
		if (d)
			*d += 1;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts_ns = bpf_ktime_get_boot_ns();
	return e;
}

SEC("tracepoint/sched/sched_process_exec")
int trace_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct ltrack_proc_event *e = reserve(LTRACK_PROC_EXEC);
	__u64 ug = bpf_get_current_uid_gid();
	unsigned long start, end, len;
	unsigned short off;

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->start_boot_ns = BPF_CORE_READ(task, start_boottime);
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	off = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), (void *)ctx + off);
	/* argv was just copied onto the new stack: still resident. */
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len >= LTRACK_ARGS_LEN)
		len = LTRACK_ARGS_LEN - 1; /* keeps a NUL at the end */
	len &= LTRACK_ARGS_LEN - 1;        /* the bound, in a form the verifier sees */
	if (len && bpf_probe_read_user(e->args, len, (void *)start) == 0)
		e->args_len = len;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int trace_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	struct ltrack_proc_event *e = reserve(LTRACK_PROC_FORK);

	if (!e)
		return 0;
	e->pid = ctx->child_pid;
	e->ppid = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int trace_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ltrack_proc_event *e;

	if ((__u32)id != id >> 32)
		return 0; /* a thread, not the process */
	e = reserve(LTRACK_PROC_EXIT);
	if (!e)
		return 0;
	e->pid = id >> 32;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
