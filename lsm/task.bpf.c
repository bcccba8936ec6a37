// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Who is governed. A task becomes governed when it executes a profile's
 * executable (or lives in a profile's cgroup, see current_profile()), and
 * every task it creates inherits its profile at task_alloc. */
#include "ltrack.bpf.h"

SEC("lsm/task_alloc")
int BPF_PROG(track_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct ltrack_task *parent, *child;
	struct view v;
	__u32 profile;

	if (ret)
		return ret;
	parent = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, 0);
	if (parent && parent->profile) {
		profile = parent->profile;
	} else {
		/* A cgroup-selected parent not yet labelled (or remembered as
		 * ungoverned by an older policy): label both now. */
		if (!get_view(&v) || !(v.hdr->flags & LTRACK_SF_CGROUP_PROFILES))
			return 0;
		profile = current_profile(&v);
	}
	if (!profile)
		return 0;
	child = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (child)
		child->profile = profile;
	return 0;
}

/* After a successful exec: executing a profile's executable governs the task
 * from now on. A task already governed keeps its profile, so a governed
 * worker cannot shed it by executing something else. */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(track_exec, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ltrack_exe_key key = {};
	struct ltrack_task *t;
	struct view v;
	struct inode *inode;
	__u32 *profile;

	if (!get_view(&v))
		return 0;
	t = bpf_task_storage_get(&tasks, task, 0, 0);
	if (t && t->profile)
		return 0;
	inode = BPF_CORE_READ(bprm, file, f_inode);
	key.slot = v.slot;
	key.dev = inode_dev(inode);
	key.ino = BPF_CORE_READ(inode, i_ino);
	profile = bpf_map_lookup_elem(&exe_profiles, &key);
	if (!profile)
		return 0;
	t = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		t->profile = *profile;
	return 0;
}
