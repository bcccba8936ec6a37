/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/* The maps and load-time settings (defined once in maps.bpf.c, linked into
 * one object) and who is governed: the live policy generation, the current
 * task's profile, ltrack's own processes. The root of the kernel-side
 * headers: it includes only vmlinux.h, libbpf's headers and abi.h, and
 * declares only what maps.bpf.c defines.
 *   maps.bpf.h      maps, identity (this file)
 *   decision.bpf.h  begin and settle a decision
 *   walk.bpf.h      which rule names an object: the ancestor walk, its memo,
 *                   name rules; the path walk a record's path comes from
 *   record.bpf.h    reserve, fill, coalesce and send a decision record
 * Each header includes the one before it; a header's global functions and
 * externs are defined in the .bpf.c of the same name. */
#ifndef LTRACK_MAPS_BPF_H
#define LTRACK_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "abi.h"

#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif

#define EPERM 1
#define SIGKILL 9
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16

/* Map types: one typedef each so maps.bpf.c defines and the hook files
 * declare (extern) exactly the same thing, as the BPF linker requires. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ltrack_state);
} state_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct ltrack_slot);
} slots_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * LTRACK_MAX_PROFILES);
	__type(key, struct ltrack_profile_key);
	__type(value, struct ltrack_profile);
} profiles_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LTRACK_MAX_RULES);
	__type(key, struct ltrack_inode_key);
	__type(value, struct ltrack_inode_rule);
} inode_rules_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LTRACK_MAX_RULES);
	__type(key, struct ltrack_name_key);
	__type(value, struct ltrack_rule);
} name_rules_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, LTRACK_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ltrack_net_key);
	__type(value, struct ltrack_net_val);
} net_rules_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * LTRACK_MAX_PROFILES * 16);
	__type(key, struct ltrack_exe_key);
	__type(value, __u32);
} exe_profiles_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * LTRACK_MAX_PROFILES * 16);
	__type(key, struct ltrack_cgroup_key);
	__type(value, __u32);
} cgroup_profiles_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LTRACK_MAX_MODELS);
	__type(key, struct ltrack_model_key);
	__type(value, struct ltrack_model_val);
} models_map_t;

/* The scan waiter (abi.h, "first open of an unscanned model"). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ltrack_waiter);
} waiter_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LTRACK_MAX_WAIT_DIRS);
	__type(key, struct ltrack_model_key);
	__type(value, __u32);
} wait_dirs_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LTRACK_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct ltrack_pending);
} pending_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ltrack_task);
} tasks_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ltrack_guardian);
} guardians_map_t;

typedef struct {
	/* Not an LRU: an LRU hash evicts below its size (its free nodes sit on
	 * per-CPU lists), and an evicted entry is a protection silently gone.
	 * Each guard deletes only the entries it wrote (bpf_guard::protect_files). */
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ltrack_file_key);
	__type(value, __u32);
} protected_files_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LTRACK_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters_map_t;

/* Decisions whose record could not be written (ring buffer full), by
 * profile id: what `ltrackctl status` shows per profile. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LTRACK_MAX_PROFILES + 1);
	__type(key, __u32);
	__type(value, __u64);
} profile_drops_map_t;

/* Identical decisions coalesced (abi.h, "coalescing"): LRU, so a process
 * that makes many distinct decisions evicts the oldest keys, never fails. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LTRACK_COALESCE_KEYS);
	__type(key, struct ltrack_coalesce_key);
	__type(value, struct ltrack_coalesce_val);
} coalesce_map_t;

/* A coalesce value being built (too big for the stack). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ltrack_coalesce_val);
} coalesce_scratch_map_t;

/* The directory memo (walk_inode_rules in walk.bpf.h): one way per
 * walking hook, the walk's result and what it was computed from. */
struct memo_tag {
	__u64 mnt;
	__u64 dentry;
	__u32 generation;
	__u32 profile;
	__u32 rename_seq;
	__u32 mount_seq;
};

struct dir_memo_way {
	struct memo_tag tag;
	__u32 rule_id;
	__u8 action;
	__u8 found;
	__u8 limit; /* walk_result.limit */
	__u8 valid;
};

struct dir_memo {
	struct bpf_spin_lock lock;  /* one writer at a time */
	__u32 seq;                  /* odd while a writer is at work: readers retry nothing, they walk */
	struct dir_memo_way way[2]; /* file, exec */
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dir_memo);
} dir_memos_map_t;

/* Content generations of inodes the daemon scanned (see ltrack_content). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ltrack_content);
} model_content_map_t;

/* Scratch space too big for the 512-byte BPF stack: a name being hashed,
 * a path being put together from its end (ltrack_build_path). */
struct scratch {
	char name[LTRACK_NAME_MAX + 1];
	char path[2 * LTRACK_PATH_LEN];
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map_t;

extern state_map_t state SEC(".maps");
extern slots_map_t slots SEC(".maps");
extern profiles_map_t profiles SEC(".maps");
extern inode_rules_map_t inode_rules SEC(".maps");
extern name_rules_map_t name_rules SEC(".maps");
extern net_rules_map_t net_rules SEC(".maps");
extern exe_profiles_map_t exe_profiles SEC(".maps");
extern cgroup_profiles_map_t cgroup_profiles SEC(".maps");
extern models_map_t models SEC(".maps");
extern waiter_map_t waiter SEC(".maps");
extern wait_dirs_map_t wait_dirs SEC(".maps");
extern pending_map_t pending SEC(".maps");
extern tasks_map_t tasks SEC(".maps");
extern guardians_map_t guardians SEC(".maps");
extern protected_files_map_t protected_files SEC(".maps");
extern events_map_t events SEC(".maps");
extern counters_map_t counters SEC(".maps");
extern profile_drops_map_t profile_drops SEC(".maps");
extern coalesce_map_t coalesce SEC(".maps");
extern coalesce_scratch_map_t coalesce_scratch SEC(".maps");
extern scratch_map_t scratch SEC(".maps");
extern dir_memos_map_t dir_memos SEC(".maps");
extern model_content_map_t model_content SEC(".maps");

/* Addresses of the kernel's rename_lock and mount_lock, set by the loader
 * from /proc/kallsyms (0: unknown, no directory memo; see tree_seqs in
 * walk.bpf.h). Untyped __ksym externs would do the same, but the BPF linker
 * cannot merge them across hook files. */
extern const volatile __u64 rename_lock_addr;
extern const volatile __u64 mount_lock_addr;

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += 1;
}

/* A kernel pointer as a plain number, for a global function's scalar
 * argument (the verifier refuses a BTF pointer there). */
static __always_inline __u64 scalar_of(const void *p)
{
	__u64 v = (__u64)p, out = 0;

	bpf_probe_read_kernel(&out, sizeof(out), &v);
	return out;
}

/* The kernel's internal dev_t of an inode's filesystem, as user space
 * encodes it for inode keys (major << 20 | minor). */
static __always_inline __u64 inode_dev(struct inode *inode)
{
	return BPF_CORE_READ(inode, i_sb, s_dev);
}

/* The live policy generation, read once per decision. */
struct view {
	struct ltrack_state *st;
	struct ltrack_slot *hdr;
	__u32 slot;
};

static __always_inline bool get_view(struct view *v)
{
	__u32 zero = 0;

	v->st = bpf_map_lookup_elem(&state, &zero);
	if (!v->st)
		return false;
	v->slot = READ_ONCE(v->st->active_slot) & 1;
	v->hdr = bpf_map_lookup_elem(&slots, &v->slot);
	return v->hdr && (v->hdr->flags & LTRACK_SF_LOADED);
}

/* Deepest first: the nearest enclosing cgroup with a profile decides. */
#define LTRACK_MAX_CGROUP_LEVEL 16
static __always_inline __u32 cgroup_profile(__u32 slot)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int level = BPF_CORE_READ(task, cgroups, dfl_cgrp, level);
	struct ltrack_cgroup_key key = {.slot = slot};

	for (int i = LTRACK_MAX_CGROUP_LEVEL; i >= 0; i--) {
		__u32 *p;

		if (i > level)
			continue;
		key.cgroup_id = bpf_get_current_ancestor_cgroup_id(i);
		p = bpf_map_lookup_elem(&cgroup_profiles, &key);
		if (p)
			return *p;
	}
	return 0;
}

/* One of ltrack's own processes (see "guardians" in abi.h): the label is on
 * the thread-group leader, so every thread of the process carries it. */
static __always_inline bool is_guardian(struct task_struct *task)
{
	return bpf_task_storage_get(&guardians, task->group_leader, 0, 0) != NULL;
}

/* The profile the policy selects for the current task, 0 if none. An
 * ungoverned task costs one task storage lookup and the view's two array
 * lookups: with no catch-all or cgroup profile it has no label; under a
 * policy that selects by cgroup, the first check's "none" is remembered in
 * its label for that policy generation and cgroup, so the cgroup walk runs
 * once, not per hook. */
static __always_inline __u32 selected_profile(struct view *v)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ltrack_task *t = bpf_task_storage_get(&tasks, task, 0, 0);
	__u32 profile;
	__u64 cgroup_id;

	if (t) {
		if (t->profile)
			return t->profile;
		if (t->generation == v->hdr->generation && t->cgroup_id == bpf_get_current_cgroup_id())
			return 0;
	}
	if (v->hdr->all_profile && !(v->hdr->flags & LTRACK_SF_EXCEPT_CGROUPS))
		return v->hdr->all_profile;
	if (!(v->hdr->flags & LTRACK_SF_CGROUP_PROFILES))
		return 0;
	profile = cgroup_profile(v->slot);
	/* all = true with except_cgroups: the administrator's cgroups are not
	 * governed; everything else is, and remembers it like a cgroup
	 * profile (moving into an except cgroup later sheds nothing). */
	if (profile == LTRACK_PROFILE_NONE)
		profile = 0;
	else if (v->hdr->all_profile)
		profile = v->hdr->all_profile;
	/* Remember it. A profile: children inherit it at task_alloc, and
	 * leaving the cgroup later does not shed it. None: until the policy or
	 * the task's cgroup changes. */
	cgroup_id = profile ? 0 : bpf_get_current_cgroup_id();
	t = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t) {
		t->profile = profile;
		t->generation = v->hdr->generation;
		t->cgroup_id = cgroup_id;
	}
	return profile;
}

/* The profile governing the current task, 0 if none; ltrack's own
 * processes are never governed. The guardian label is looked up only for a
 * task some profile selects, so an ungoverned task pays nothing for it. */
static __always_inline __u32 current_profile(struct view *v)
{
	__u32 profile = selected_profile(v);

	if (profile && is_guardian(bpf_get_current_task_btf()))
		return 0;
	return profile;
}

#endif /* LTRACK_MAPS_BPF_H */
