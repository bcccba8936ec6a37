/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/* Kernel-side helpers shared by the hook families: the maps (defined once in
 * maps.bpf.c, linked into one object), who is governed, the ancestor walk and
 * the decision -> verdict + record step every hook ends with. */
#ifndef LTRACK_BPF_H
#define LTRACK_BPF_H

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

/* The directory memo (see walk_inode_rules): one way per walking hook,
 * the walk's result and what it was computed from. */
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
	struct bpf_spin_lock lock; /* one writer at a time */
	__u32 seq;                 /* odd while a writer is at work: readers retry nothing, they walk */
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
 * a path being put together from its end (record_path). */
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

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += 1;
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
	struct ltrack_cgroup_key key = { .slot = slot };

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

static __always_inline __u32 effective_mode(struct view *v, struct ltrack_profile *p)
{
	return p->mode != LTRACK_MODE_INHERIT ? p->mode : READ_ONCE(v->st->mode);
}

/* A decision in the making: what matched and how it came out. */
struct decision {
	__u32 profile;
	__u32 rule_id;
	__u32 mode;
	__u32 flags;
	__u32 verdict;
	__u8 hook;
	__u8 action;
	__u8 is_default; /* the profile's default decided, no rule matched */
	__u8 outcome;
};

/* Every guard starts here: the live policy, the current task's profile in
 * it (NULL for an ungoverned task: allow), and the decision seeded with the
 * profile, its effective mode and the hook. */
static __always_inline struct ltrack_profile *begin_decision(struct view *v, struct decision *d, __u8 hook)
{
	struct ltrack_profile_key pk;
	struct ltrack_profile *p;

	if (!get_view(v))
		return NULL;
	pk.profile = current_profile(v);
	if (!pk.profile)
		return NULL;
	pk.slot = v->slot;
	p = bpf_map_lookup_elem(&profiles, &pk);
	if (!p)
		return NULL;
	d->profile = pk.profile;
	d->mode = effective_mode(v, p);
	d->hook = hook;
	/* Which generation decided: the daemon names the rule from that one
	 * policy's symbols even if a reload lands before it reads the record. */
	d->flags = v->slot ? LTRACK_EV_SLOT1 : 0;
	return p;
}

/* Turns the matched action into the outcome and the hook's return value. */
static __always_inline int settle(struct decision *d)
{
	if (d->action == LTRACK_ACT_NONE || d->action == LTRACK_ACT_ALLOW) {
		d->outcome = LTRACK_OUT_ALLOWED;
		return 0;
	}
	if (d->action == LTRACK_ACT_AUDIT) {
		d->outcome = LTRACK_OUT_AUDITED;
		return 0;
	}
	if (d->mode == LTRACK_MODE_AUDIT) {
		d->outcome = LTRACK_OUT_WOULD_DENY;
		return 0;
	}
	if (d->action == LTRACK_ACT_KILL) {
		bpf_send_signal(SIGKILL);
		d->outcome = LTRACK_OUT_KILLED;
	} else {
		d->outcome = LTRACK_OUT_DENIED;
	}
	return -EPERM;
}

/* Whether a settled decision is recorded: everything but an implicit allow
 * (no rule matched and the default is allow), which would flood the log
 * with every library a governed worker opens. */
static __always_inline bool worth_recording(struct decision *d)
{
	if (d->action == LTRACK_ACT_NONE)
		return false;
	return !(d->is_default && d->action == LTRACK_ACT_ALLOW);
}

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
		bpf_probe_read_kernel_str(e->path, sizeof(e->path),
					  BPF_CORE_READ(file, f_path.dentry, d_name.name));
		e->flags |= LTRACK_EV_PATH_PARTIAL;
	}
}

/* A record's path for an object named by a dentry on a mount, where the
 * hook has no struct path bpf_d_path accepts (link, rename and mount hooks
 * on 6.1): the names from the object up to the process's root, crossing
 * mount points as d_path does. A global function (file.bpf.c), verified
 * once; dentry and vfsmnt are addresses (scalar_of). Returns the path's
 * offset in buf->path, with LTRACK_PATH_CUT set when it is only its last
 * components (longer than the record or than LTRACK_MAX_WALK levels). */
#define LTRACK_PATH_CUT (1u << 16)
__u32 ltrack_build_path(struct scratch *buf, __u64 dentry, __u64 vfsmnt);

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

/* The nearest inode rule for an object: the object itself (exact or subtree
 * rule) or its nearest ancestor directory with a subtree rule. The walk
 * follows d_parent to the filesystem root, then crosses to the mountpoint in
 * the parent mount, so a rule on a directory holds through symlinks, bind
 * mounts, "..", and for files created after the policy was loaded. */
struct walk_result {
	struct ltrack_rule rule;
	bool found;
	/* Fail closed, undecided: LTRACK_EV_WALK_LIMIT (the bound was reached
	 * before the root) or LTRACK_EV_DISCONNECTED (the walk ended at a root
	 * that is neither its filesystem's nor its mount's: a dentry
	 * open_by_handle_at made, whose real ancestors are unknown). */
	__u8 limit;
};

/* A decision the walk could not make: denied and counted, the reason in the
 * record's flags. */
static __always_inline void walk_failed(struct decision *d, __u8 why)
{
	count(why == LTRACK_EV_WALK_LIMIT ? LTRACK_CNT_WALK_LIMIT : LTRACK_CNT_DISCONNECTED);
	d->flags |= why;
	d->action = LTRACK_ACT_DENY;
}

/* The rule for one inode (key->dev and key->ino set), if any: its own rule
 * only for the file itself (self), else a subtree rule. */
static __always_inline bool inode_rule(struct ltrack_inode_key *key, bool self, struct walk_result *res)
{
	struct ltrack_inode_rule *r = bpf_map_lookup_elem(&inode_rules, key);

	if (!r)
		return false;
	if (self && r->self_action) {
		res->rule.rule_id = r->self_rule;
		res->rule.action = r->self_action;
	} else if (r->subtree_action) {
		res->rule.rule_id = r->subtree_rule;
		res->rule.action = r->subtree_action;
	} else {
		return false;
	}
	res->found = true;
	return true;
}

/* The rule on one dentry's inode, for a dentry reached through BTF
 * pointers (the hook's file and its d_parent chain): plain loads, which the
 * verifier turns into fault-safe direct reads, no helper call. */
static __always_inline bool inode_rule_at_btf(struct dentry *dentry, struct ltrack_inode_key *key, bool self,
					      struct walk_result *res)
{
	struct inode *inode = dentry->d_inode;

	if (!inode)
		return false;
	key->dev = inode->i_sb->s_dev;
	key->ino = inode->i_ino;
	return inode_rule(key, self, res);
}

/* The same for a dentry whose address came from bpf_probe_read (past a
 * mount crossing: struct mount is only reachable by container_of, which
 * the verifier does not allow on a BTF pointer before 6.2). */
static __always_inline bool inode_rule_at(struct dentry *dentry, struct ltrack_inode_key *key, bool self,
					  struct walk_result *res)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);

	if (!inode)
		return false;
	key->dev = inode_dev(inode);
	key->ino = BPF_CORE_READ(inode, i_ino);
	return inode_rule(key, self, res);
}

/* The directories above an object whose own rule was already looked up:
 * its parent, the parent's parent, ... to the namespace root. One iteration
 * per level, up to LTRACK_MAX_WALK. A mount crossing (a filesystem's root
 * and the directory it covers, both looked up) stays in one iteration, so it
 * costs no level. The walk goes past a chroot to the namespace root: a
 * process that can chroot must not hide a rule above it. Within the
 * object's own mount (most levels, as mounts sit near the root) every read
 * is a direct load; past the first crossing the dentries come from
 * bpf_probe_read and are read with it. at is any path on the object's mount
 * (the opened file's). A root reached below the top that is neither its
 * filesystem's nor its mount's (a dentry open_by_handle_at cut off from its
 * directory) is not checked here: inlined in file_open and bprm_check, the
 * check adds a branch the verifier explores at every level (40,000 more
 * verified instructions in bprm_check, 86,000 in file_open on 6.1), so
 * opens and execs check it once, at the object,
 * in guard_open_builtin (opening a directory by handle reconnects it, so
 * only a file's own dentry stays cut off); links and renames in
 * ltrack_walk (file.bpf.c), the same walk one level per bpf_loop call. */
static __always_inline void walk_ancestors(const struct path *at, struct dentry *dentry,
					   struct ltrack_inode_key *key, struct walk_result *res)
{
	struct mount *mnt = NULL;
	bool crossed = false;
	int i;

	count(LTRACK_CNT_WALKS);
	for (i = 0; i <= LTRACK_MAX_WALK; i++) {
		struct dentry *parent = crossed ? BPF_CORE_READ(dentry, d_parent) : dentry->d_parent;

		if (parent == dentry) {
			struct mount *up;

			if (!crossed) {
				mnt = container_of(BPF_CORE_READ(at, mnt), struct mount, mnt);
				crossed = true;
			}
			up = BPF_CORE_READ(mnt, mnt_parent);
			if (up == mnt)
				return; /* the namespace root */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			if (inode_rule_at(dentry, key, false, res))
				return;
			parent = BPF_CORE_READ(dentry, d_parent);
			if (parent == dentry)
				continue; /* mounted on another mount's root: cross again */
		}
		dentry = parent;
		if (i == LTRACK_MAX_WALK)
			break;
		if (crossed ? inode_rule_at(dentry, key, false, res) : inode_rule_at_btf(dentry, key, false, res))
			return;
	}
	res->limit = LTRACK_EV_WALK_LIMIT;
}

/* ---- the directory memo ----
 * What the walk above a directory found, kept in the directory's inode
 * storage: the next open in the same directory costs one storage lookup
 * instead of one hash lookup per ancestor. An entry holds for one policy
 * generation, one profile, one mount (bind mounts of the directory walk
 * different mountpoints) and one state of the dentry and mount trees: the
 * kernel's own rename_lock and mount_lock sequence counts, which every
 * d_move and every mount, umount or mount move advance (the check d_path
 * makes). A rename or mount anywhere on the host therefore empties every
 * memo at once; they refill on the next open. */
/* Addresses of the kernel's rename_lock and mount_lock, set by the loader
 * from /proc/kallsyms (0: unknown, no memo). Untyped __ksym externs would
 * do the same, but the BPF linker cannot merge them across hook files. */
extern const volatile __u64 rename_lock_addr;
extern const volatile __u64 mount_lock_addr;

/* The two sequence counts; false while either tree is being changed (odd)
 * or when the kernel did not export the symbols (no memo then). The loads
 * need no barrier between them on x86 (loads are not reordered). */
static __always_inline bool tree_seqs(__u32 *rename, __u32 *mount)
{
	if (!rename_lock_addr || !mount_lock_addr) {
		*rename = *mount = 1; /* odd: no memo */
		return false;
	}
	*rename = BPF_CORE_READ((seqlock_t *)rename_lock_addr, seqcount.seqcount.sequence);
	*mount = BPF_CORE_READ((seqlock_t *)mount_lock_addr, seqcount.seqcount.sequence);
	return !((*rename | *mount) & 1);
}

static __always_inline int memo_way(__u32 hook)
{
	return hook == LTRACK_HOOK_EXEC ? 1 : 0;
}

static __always_inline bool memo_get(struct inode *dir, __u32 hook, struct memo_tag *tag,
				     struct walk_result *res)
{
	struct dir_memo *m = bpf_inode_storage_get(&dir_memos, dir, 0, 0);
	struct dir_memo_way w;
	__u32 seq;

	if (!m)
		return false;
	/* A seqcount read: no lock on the path every open takes. x86 orders
	 * loads with loads and stores with stores, so compiler barriers are
	 * all it needs (as the kernel's own smp_rmb on x86). */
	seq = READ_ONCE(m->seq);
	asm volatile("" ::: "memory");
	w = m->way[memo_way(hook)];
	asm volatile("" ::: "memory");
	if ((seq & 1) || READ_ONCE(m->seq) != seq)
		return false;
	if (!w.valid || w.tag.mnt != tag->mnt || w.tag.dentry != tag->dentry ||
	    w.tag.generation != tag->generation || w.tag.profile != tag->profile ||
	    w.tag.rename_seq != tag->rename_seq || w.tag.mount_seq != tag->mount_seq)
		return false;
	res->found = w.found;
	res->limit = w.limit;
	res->rule.rule_id = w.rule_id;
	res->rule.action = w.action;
	return true;
}

/* Keeps a walk's result only if nothing it depended on moved while it ran:
 * the same even tree sequence counts after it, and its policy generation
 * still the live one (a walk over a slot being rewritten is never kept). */
static __always_inline void memo_put(struct inode *dir, __u32 hook, struct view *v, struct memo_tag *tag,
				     struct walk_result *res)
{
	struct dir_memo_way w = {};
	struct dir_memo *m;
	__u32 rename, mount;

	if (!tag->dentry || !tree_seqs(&rename, &mount) || rename != tag->rename_seq || mount != tag->mount_seq)
		return;
	if ((READ_ONCE(v->st->active_slot) & 1) != v->slot || READ_ONCE(v->hdr->generation) != tag->generation)
		return;
	m = bpf_inode_storage_get(&dir_memos, dir, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!m)
		return;
	w.tag = *tag;
	w.rule_id = res->rule.rule_id;
	w.action = res->rule.action;
	w.found = res->found;
	w.limit = res->limit;
	w.valid = 1;
	bpf_spin_lock(&m->lock);
	m->seq++;
	asm volatile("" ::: "memory");
	m->way[memo_way(hook)] = w;
	asm volatile("" ::: "memory");
	m->seq++;
	bpf_spin_unlock(&m->lock);
}

/* The nearest inode rule for an object (dentry, on the mount of path at):
 * its own, else the walk's above its directory, from the directory's memo
 * when that still holds. An object that is its filesystem's root (no
 * directory in the same mount) is always walked (tag.dentry 0 matches no
 * memo and stores none). The path to the walk has no branch of its own: the
 * verifier explores the 64-level walk once per distinct state that enters
 * it, and file_open's budget has no room for a second pass. */
static __always_inline void walk_inode_rules(struct dentry *dentry, const struct path *at, struct view *v,
					     __u32 profile, __u32 hook, struct walk_result *res)
{
	struct ltrack_inode_key key = { .slot = v->slot, .profile = profile, .hook = hook };
	struct dentry *dir = dentry->d_parent;
	struct inode *dir_inode = dir->d_inode;
	struct memo_tag tag = {};

	__builtin_memset(res, 0, sizeof(*res));
	if (inode_rule_at_btf(dentry, &key, true, res))
		return;
	/* Not for the model layer's walk: a second memoised walk in file_open
	 * takes the program past the verifier's instruction budget. */
	if (hook == LTRACK_HOOK_MODEL) {
		walk_ancestors(at, dentry, &key, res);
		return;
	}
	tag.mnt = (__u64)at->mnt;
	tag.dentry = dir != dentry ? (__u64)dir : 0;
	tag.generation = v->hdr->generation;
	tag.profile = profile;
	/* Odd counts (a tree being changed) match no memo: none is kept with them. */
	tree_seqs(&tag.rename_seq, &tag.mount_seq);
	if (memo_get(dir_inode, hook, &tag, res))
		return;
	walk_ancestors(at, dentry, &key, res);
	memo_put(dir_inode, hook, v, &tag, res);
}

/* The same rule (the object's own, else the walk's) as a global function
 * (file.bpf.c) on addresses (scalar_of): the verifier checks its walk once
 * per program, not once per state that reaches it, so a program that needs
 * two walks (a link's model and file decisions) stays small. No memo: for
 * operations rarer than opens. Returns rule_id | action << 32 | found << 40
 * | limit << 48. */
__u64 ltrack_walk(__u64 dentry, __u64 vfsmnt, __u32 slot, __u32 profile, __u32 hook);

/* walk_inode_rules for a hook that may not afford its verifier cost (compact:
 * ltrack_walk), or that may (the opens: memo and direct loads). */
static __always_inline void find_inode_rule(struct dentry *dentry, const struct path *at, struct view *v,
					    __u32 profile, __u32 hook, bool compact, struct walk_result *res)
{
	__u64 r;

	if (!compact) {
		walk_inode_rules(dentry, at, v, profile, hook, res);
		return;
	}
	r = ltrack_walk(scalar_of(dentry), scalar_of(at->mnt), v->slot, profile, hook);
	res->rule.rule_id = (__u32)r;
	res->rule.action = (__u8)(r >> 32);
	res->found = (__u8)(r >> 40);
	res->limit = (__u8)(r >> 48);
}

/* The name rule for a final path component: the whole name (exact) first,
 * then suffixes from the longest, each starting at a '.'. One backward pass
 * over the name (in buf, len bytes), hashing as ltrack_name_hash_step()
 * defines. A global function (file.bpf.c): the verifier checks its 255-step
 * loop once, not once per state that reaches each caller. Returns
 * LTRACK_NAME_MATCH | rule_id << 8 | action, or 0 when no rule matches. */
#define LTRACK_NAME_MATCH (1ull << 63)
__u64 ltrack_match_name(struct scratch *buf, __u32 len, __u32 slot, __u32 profile, __u32 hook);

static __always_inline bool match_name_rule(struct dentry *dentry, __u32 slot, __u32 profile,
					    __u32 hook, struct scratch *buf,
					    struct ltrack_rule *out)
{
	const unsigned char *name = dentry->d_name.name; /* a BTF pointer: direct loads */
	__u32 len = dentry->d_name.len;
	__u64 m;

	if (len == 0 || len > LTRACK_NAME_MAX)
		return false;
	if (bpf_probe_read_kernel(buf->name, len & LTRACK_NAME_MAX, name) < 0)
		return false;
	m = ltrack_match_name(buf, len, slot, profile, hook);
	if (!m)
		return false;
	out->rule_id = (__u32)(m >> 8);
	out->action = (__u8)m;
	return true;
}

#endif /* LTRACK_BPF_H */
