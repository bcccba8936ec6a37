/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/* A decision's record: reserved with the decision and the caller's context,
 * filled with the object by the hook, then sent or folded into an identical
 * one (coalescing, record.bpf.c). */
#ifndef LTRACK_RECORD_BPF_H
#define LTRACK_RECORD_BPF_H

#include "walk.bpf.h" /* ltrack_build_path: a record's path from a dentry */

/* Reserves a record with the decision and the caller's context filled in;
 * the hook adds the object and hands it to submit_record. NULL when the ring
 * is full: counted, in total and for the decision's profile. */
static __always_inline struct ltrack_event *new_record(struct decision *d)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ltrack_event *e;
	__u64 id, ug, *drops;
	__u32 profile = d->profile;

	count(LTRACK_CNT_DECISIONS);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LTRACK_CNT_RINGBUF_DROPS);
		drops = bpf_map_lookup_elem(&profile_drops, &profile);
		if (drops)
			*drops += 1;
		return NULL;
	}
	id = bpf_get_current_pid_tgid();
	ug = bpf_get_current_uid_gid();
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = task->real_parent->tgid; /* BTF pointers: direct loads */
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->profile = d->profile;
	e->rule_id = d->rule_id;
	e->hook = d->hook;
	e->action = d->action;
	e->mode = d->mode;
	e->outcome = d->outcome;
	e->flags = d->flags;
	e->verdict = d->verdict;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->dev = 0;
	e->ino = 0;
	e->family = 0;
	e->port = 0;
	e->proto = 0;
	e->sock_type = 0;
	e->pad = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	e->path[0] = 0;
	e->cred_op = 0;
	e->count = 1;
	__builtin_memset(e->old_ids, 0, sizeof(e->old_ids));
	__builtin_memset(e->new_ids, 0, sizeof(e->new_ids));
	e->old_caps = 0;
	e->new_caps = 0;
	e->tamper_op = 0;
	e->target_pid = 0;
	e->tamper_arg = 0;
	return e;
}

/* Settles a decision and reserves its record when it is worth one; the
 * hook fills in the object and submits it. NULL when it is not worth one or
 * the ring is full; *err is the hook's return value either way. */
static __always_inline struct ltrack_event *settle_and_reserve(struct decision *d, int *err)
{
	*err = settle(d);
	if (!worth_recording(d))
		return NULL;
	return new_record(d);
}

/* Whether a filled record goes to the ring (1) or only adds to the count of
 * an identical one already sent in its window (0); sets its count. A global
 * function (record.bpf.c): the verifier checks it once, not in every state
 * of every hook that ends in a record. */
int ltrack_coalesce(struct ltrack_event *e);

/* The same test made before a record is reserved, for the decisions a
 * process repeats most (an allow rule's connects, a rule's opens and
 * execs): a decision identical to one recorded within the window is only
 * counted, as ltrack_coalesce would count its record, for one hash lookup
 * instead of a ring-buffer reserve, a record filled and discarded, and the
 * discard's wake-up of a daemon that had caught up. Returns 1 when the
 * decision is counted (nothing more to do), 0 when it needs a record (which
 * then goes through ltrack_coalesce as any other). The key is the one
 * ltrack_coalesce makes from that record. Global functions (record.bpf.c). */
int ltrack_coalesced_file(struct decision *d, __u64 dev, __u64 ino);
/* addr: the 16 address bytes as two words; what: family | port << 16 |
 * proto << 32 (scalars: a pointer to a struct with padding would pass an
 * uninitialised stack byte, which the verifier refuses). */
int ltrack_coalesced_net(struct decision *d, __u64 addr0, __u64 addr1, __u64 what);

/* The end of every record: sent, or folded into an identical one. */
static __always_inline void submit_record(struct ltrack_event *e)
{
	if (ltrack_coalesce(e))
		bpf_ringbuf_submit(e, 0);
	else
		bpf_ringbuf_discard(e, 0);
}

/* Fills a file record's identity and path. bpf_d_path is allowed from
 * file_open and bprm_check_security; if it fails, keep the final name. */
static __always_inline void record_file(struct ltrack_event *e, struct file *file)
{
	struct inode *inode = file->f_inode;
	long n;

	e->dev = inode->i_sb->s_dev;
	e->ino = inode->i_ino;
	n = bpf_d_path((struct path *)&file->f_path, e->path, sizeof(e->path));
	if (n < 0) {
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(file, f_path.dentry, d_name.name));
		e->flags |= LTRACK_EV_PATH_PARTIAL;
	}
}

/* Fills a record's object (identity and path) from a dentry on a mount. */
static __always_inline void record_dentry(struct ltrack_event *e, struct dentry *dentry, __u64 vfsmnt,
					  struct scratch *buf)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	__u32 at;

	if (inode) {
		e->dev = inode_dev(inode);
		e->ino = BPF_CORE_READ(inode, i_ino);
	}
	at = ltrack_build_path(buf, scalar_of(dentry), vfsmnt);
	if (at & LTRACK_PATH_CUT)
		e->flags |= LTRACK_EV_PATH_PARTIAL;
	bpf_probe_read_kernel(e->path, sizeof(e->path), buf->path + (at & (LTRACK_PATH_LEN - 1)));
}

/* The end of a file or exec decision: the verdict, and the record (with the
 * file's identity and path) when the decision is worth one. */
static __always_inline int finish_file_decision(struct decision *d, struct file *file)
{
	struct inode *inode = file->f_inode;
	struct ltrack_event *e;
	int err = settle(d);

	if (!worth_recording(d))
		return err;
	if (ltrack_coalesced_file(d, inode->i_sb->s_dev, inode->i_ino))
		return err;
	e = new_record(d);
	if (e) {
		record_file(e, file);
		submit_record(e);
	}
	return err;
}

#endif /* LTRACK_RECORD_BPF_H */
