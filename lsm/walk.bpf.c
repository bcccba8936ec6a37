// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* The global functions of walk.bpf.h: loops the verifier checks once per
 * program (one step per bpf_loop call), not once per state that reaches
 * them. The walk up an object's ancestors for its inode rule (ltrack_walk),
 * the match of a name against the name rules (ltrack_match_name) and the
 * names up to the process's root for a record's path (ltrack_build_path). */
#include "walk.bpf.h"

/* ltrack_match_name's state between characters (one per bpf_loop call:
 * the verifier checks one character instead of unrolling 255). */
struct name_loop {
	struct ltrack_name_key key;
	__u64 h;
	__u32 len;
	__u32 best_rule; /* 0: no suffix rule yet */
	__u8 best_action;
};

static long name_char(__u32 i, struct name_loop *c)
{
	struct ltrack_rule *r;
	struct scratch *buf;
	__u32 pos, zero = 0;
	unsigned char ch;

	if (i >= c->len)
		return 1;
	buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf)
		return 1;
	pos = (c->len - 1 - i) & LTRACK_NAME_MAX;
	ch = buf->name[pos];
	c->h = ltrack_name_hash_step(c->h, ch);
	/* A suffix starts at a dot; the longest one wins, so keep going. */
	if (ch == '.' && pos > 0) {
		c->key.hash = c->h;
		r = bpf_map_lookup_elem(&name_rules, &c->key);
		if (r) {
			c->best_rule = r->rule_id;
			c->best_action = r->action;
		}
	}
	return 0;
}

/* buf is the task's scratch (the callback finds the same per-CPU value). */
__noinline __u64 ltrack_match_name(struct scratch *buf, __u32 len, __u32 slot, __u32 profile, __u32 hook)
{
	struct name_loop c = {.key = {.slot = slot, .profile = profile, .hook = hook}};
	struct ltrack_rule *r;

	if (!buf)
		return 0;
	c.h = LTRACK_NAME_HASH_INIT;
	c.len = len;
	c.key.kind = LTRACK_NAME_SUFFIX;
	bpf_loop(LTRACK_NAME_MAX, name_char, &c, 0);
	c.key.kind = LTRACK_NAME_EXACT;
	c.key.hash = c.h;
	r = bpf_map_lookup_elem(&name_rules, &c.key);
	if (r) {
		c.best_rule = r->rule_id;
		c.best_action = r->action;
	}
	if (!c.best_action)
		return 0;
	return LTRACK_NAME_MATCH | (__u64)c.best_rule << 8 | c.best_action;
}

/* ltrack_walk's state between levels (walk_ancestors' loop, one level per
 * bpf_loop call: the verifier checks a level once instead of unrolling 64). */
struct walk_loop {
	struct ltrack_inode_key key;
	struct walk_result res;
	__u64 dentry; /* struct dentry *, from bpf_probe_read */
	__u64 mnt;    /* struct mount * */
	bool done;
};

static long walk_level(__u32 i, struct walk_loop *c)
{
	struct dentry *dentry = (struct dentry *)c->dentry;
	struct mount *mnt = (struct mount *)c->mnt;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

	if (parent == dentry) {
		struct mount *up;

		/* A root below the top that is neither its filesystem's nor
		 * its mount's: cut off (see walk_ancestors). */
		if (dentry != BPF_CORE_READ(dentry, d_sb, s_root) && dentry != BPF_CORE_READ(mnt, mnt.mnt_root) &&
		    !nameless_fs(BPF_CORE_READ(dentry, d_sb, s_magic))) {
			c->res.limit = LTRACK_EV_DISCONNECTED;
			return 1;
		}
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt) {
			c->done = true; /* the namespace root */
			return 1;
		}
		dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = (__u64)up;
		if (inode_rule_at(dentry, &c->key, false, &c->res)) {
			c->done = true;
			return 1;
		}
		parent = BPF_CORE_READ(dentry, d_parent);
		if (parent == dentry) {
			c->dentry = (__u64)dentry; /* mounted on another mount's root: cross again */
			return 0;
		}
	}
	c->dentry = (__u64)parent;
	if (i == LTRACK_MAX_WALK)
		return 1;
	if (inode_rule_at(parent, &c->key, false, &c->res)) {
		c->done = true;
		return 1;
	}
	return 0;
}

__noinline __u64 ltrack_walk(__u64 dentry_addr, __u64 vfsmnt_addr, __u32 slot, __u32 profile, __u32 hook)
{
	struct walk_loop c = {.key = {.slot = slot, .profile = profile, .hook = hook}};
	struct walk_result *res = &c.res;

	c.dentry = dentry_addr;
	c.mnt = (__u64)container_of((struct vfsmount *)vfsmnt_addr, struct mount, mnt);
	if (!inode_rule_at((struct dentry *)dentry_addr, &c.key, true, res)) {
		count(LTRACK_CNT_WALKS);
		bpf_loop(LTRACK_MAX_WALK + 1, walk_level, &c, 0);
		if (!c.done && !res->limit)
			res->limit = LTRACK_EV_WALK_LIMIT;
	}
	return res->rule.rule_id | (__u64)res->rule.action << 32 | (__u64)res->found << 40 | (__u64)res->limit << 48;
}

/* ltrack_build_path's state between components (one per bpf_loop call). */
struct path_loop {
	__u64 root, root_mnt; /* the task's root (dentry, vfsmount) */
	__u64 dentry, mnt;    /* where the path has got to (dentry, struct mount) */
	__u32 pos;            /* the path starts at buf->path[pos] */
	bool whole;
};

static long path_component(__u32 i, struct path_loop *c)
{
	struct dentry *dentry = (struct dentry *)c->dentry;
	struct mount *mnt = (struct mount *)c->mnt;
	struct dentry *parent;
	struct scratch *buf;
	__u32 zero = 0, len, pos = c->pos;

	if (c->dentry == c->root && (__u64)&mnt->mnt == c->root_mnt) {
		c->whole = true;
		return 1;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == parent || dentry == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt) {
			c->whole = true; /* the namespace root */
			return 1;
		}
		c->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = (__u64)up;
		return 0;
	}
	buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf)
		return 1;
	len = BPF_CORE_READ(dentry, d_name.len);
	if (len + 1 > pos)
		return 1;
	pos = (pos - len) & (LTRACK_PATH_LEN - 1);
	bpf_probe_read_kernel(buf->path + pos, len & (LTRACK_PATH_LEN - 1), BPF_CORE_READ(dentry, d_name.name));
	pos = (pos - 1) & (LTRACK_PATH_LEN - 1);
	buf->path[pos] = '/';
	c->pos = pos;
	c->dentry = (__u64)parent;
	return 0;
}

__noinline __u32 ltrack_build_path(struct scratch *buf, __u64 dentry_addr, __u64 vfsmnt_addr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct path_loop c = {
		.root = (__u64)BPF_CORE_READ(task, fs, root.dentry),
		.root_mnt = (__u64)BPF_CORE_READ(task, fs, root.mnt),
		.dentry = dentry_addr,
		.mnt = (__u64)container_of((struct vfsmount *)vfsmnt_addr, struct mount, mnt),
		.pos = LTRACK_PATH_LEN - 1,
	};
	__u32 pos;

	if (!buf)
		return LTRACK_PATH_CUT;
	buf->path[LTRACK_PATH_LEN - 1] = 0;
	/* Up to LTRACK_MAX_WALK components, mount crossings included. */
	bpf_loop(LTRACK_MAX_WALK, path_component, &c, 0);
	pos = c.pos & (LTRACK_PATH_LEN - 1);
	if (pos == LTRACK_PATH_LEN - 1) { /* the root itself */
		pos--;
		buf->path[pos] = '/';
	}
	return pos | (c.whole ? 0 : LTRACK_PATH_CUT);
}
