// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* Who is governed. A task becomes governed when it executes a profile's
 * executable (or lives in a profile's cgroup, see current_profile()), and
 * every task it creates inherits its profile at task_alloc. */
#include "maps.bpf.h"

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
		 * ungoverned by an older policy): label both now. A parent
		 * remembered as ungoverned by this policy in the cgroup it is
		 * still in stays so (selected_profile's own test, without its
		 * second storage lookup): the child finds its own cgroup at its
		 * first hook. */
		if (!get_view(&v) || !(v.hdr->flags & LTRACK_SF_CGROUP_PROFILES))
			return 0;
		if (parent && parent->generation == v.hdr->generation &&
		    parent->cgroup_id == bpf_get_current_cgroup_id())
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

/* Governs the current task with the profile whose executable `inode` is,
 * unless it is governed already (a governed worker cannot shed or swap its
 * profile by running something else) or is one of ltrack's own processes.
 * inode is a BTF pointer (direct loads). Runs for every executable mapping
 * on the host (each shared library of each process): the guardian label is
 * looked up only for a program some profile selects. */
static __always_inline void label_by_executable(struct inode *inode)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ltrack_exe_key key = {};
	struct ltrack_task *t;
	struct view v;
	__u32 *profile;

	if (!get_view(&v))
		return;
	t = bpf_task_storage_get(&tasks, task, 0, 0);
	if (t && t->profile)
		return;
	key.slot = v.slot;
	key.dev = inode->i_sb->s_dev;
	key.ino = inode->i_ino;
	profile = bpf_map_lookup_elem(&exe_profiles, &key);
	if (!profile)
		return;
	if (is_guardian(task))
		return; /* ltrack's own, by its task: a process reusing ltrackd's pid is labelled */
	t = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		t->profile = *profile;
}

/* After a successful exec: executing a profile's executable governs the
 * task from now on. */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(track_exec, struct linux_binprm *bprm)
{
	label_by_executable(bprm->file->f_inode); /* BTF pointers: direct loads */
	return 0;
}

/* Running a program without exec'ing it: `ld.so /usr/bin/python3.11`, or a
 * loader of one's own, maps the program's file executable. That labels the
 * task as the exec would have (before the program's first instruction). A
 * copy of the program is another inode and is not selected; nor are bytes
 * read into anonymous memory: cgroup selection covers those. mmap_file and
 * file_mprotect (a mapping made executable later) alike. */
#define PROT_EXEC 0x4

static __always_inline int exec_mapping(struct file *file, unsigned long prot)
{
	if (file && (prot & PROT_EXEC))
		label_by_executable(file->f_inode);
	return 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(track_exec_mapping, struct file *file, unsigned long reqprot, unsigned long prot, unsigned long flags,
	     int ret)
{
	return ret ? ret : exec_mapping(file, prot);
}

SEC("lsm/file_mprotect")
int BPF_PROG(track_exec_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot, int ret)
{
	return ret ? ret : exec_mapping(vma->vm_file, prot);
}
