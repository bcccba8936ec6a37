/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/* Which rule names an object: the inode rule found on the walk up its
 * ancestors (and the directory memo that spares most opens the walk), and
 * the name rule of its final component. And the path walk a record's path
 * is built with where the hook has no struct path. The global functions
 * (ltrack_walk, ltrack_match_name, ltrack_build_path) are in walk.bpf.c. */
#ifndef LTRACK_WALK_BPF_H
#define LTRACK_WALK_BPF_H

#include "decision.bpf.h"

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

/* Pseudo filesystems whose objects never had a directory (each its own
 * root, made by d_alloc_anon): nsfs (an open of /proc/PID/ns/X lands on
 * one), pidfs (6.9+: every pidfd_open opens one), anonymous inodes, sockets
 * and pipes. No path rule can name them, so nothing is bypassed by opening
 * them, and refusing them would refuse setns and pidfd_open. */
static __always_inline bool nameless_fs(unsigned long magic)
{
	return magic == 0x6e736673 /* NSFS_MAGIC */ || magic == 0x50494446 /* PID_FS_MAGIC */ ||
	       magic == 0x09041934 /* ANON_INODE_FS_MAGIC */ || magic == 0x534F434B /* SOCKFS_MAGIC */ ||
	       magic == 0x50495045 /* PIPEFS_MAGIC */;
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
 * ltrack_walk (walk.bpf.c), the same walk one level per bpf_loop call. */
static __always_inline void walk_ancestors(const struct path *at, struct dentry *dentry, struct ltrack_inode_key *key,
					   struct walk_result *res)
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

static __always_inline bool memo_get(struct inode *dir, __u32 hook, struct memo_tag *tag, struct walk_result *res)
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
	if (!w.valid || w.tag.mnt != tag->mnt || w.tag.dentry != tag->dentry || w.tag.generation != tag->generation ||
	    w.tag.profile != tag->profile || w.tag.rename_seq != tag->rename_seq || w.tag.mount_seq != tag->mount_seq)
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
	struct ltrack_inode_key key = {.slot = v->slot, .profile = profile, .hook = hook};
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
 * (walk.bpf.c) on addresses (scalar_of): the verifier checks its walk once
 * per program, not once per state that reaches it, so a program that needs
 * two walks (a link's model and file decisions) stays small. No memo: for
 * operations rarer than opens. Returns rule_id | action << 32 | found << 40
 * | limit << 48. */
__u64 ltrack_walk(__u64 dentry, __u64 vfsmnt, __u32 slot, __u32 profile, __u32 hook);

/* walk_inode_rules for a hook that may not afford its verifier cost (compact:
 * ltrack_walk), or that may (the opens: memo and direct loads). */
static __always_inline void find_inode_rule(struct dentry *dentry, const struct path *at, struct view *v, __u32 profile,
					    __u32 hook, bool compact, struct walk_result *res)
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

/* A record's path for an object named by a dentry on a mount, where the
 * hook has no struct path bpf_d_path accepts (link, rename and mount hooks
 * on 6.1): the names from the object up to the process's root, crossing
 * mount points as d_path does. A global function (walk.bpf.c), verified
 * once; dentry and vfsmnt are addresses (scalar_of). Returns the path's
 * offset in buf->path, with LTRACK_PATH_CUT set when it is only its last
 * components (longer than the record or than LTRACK_MAX_WALK levels). */
#define LTRACK_PATH_CUT (1u << 16)
__u32 ltrack_build_path(struct scratch *buf, __u64 dentry, __u64 vfsmnt);

/* The name rule for a final path component: the whole name (exact) first,
 * then suffixes from the longest, each starting at a '.'. One backward pass
 * over the name (in buf, len bytes), hashing as ltrack_name_hash_step()
 * defines. A global function (walk.bpf.c): the verifier checks its 255-step
 * loop once, not once per state that reaches each caller. Returns
 * LTRACK_NAME_MATCH | rule_id << 8 | action, or 0 when no rule matches. */
#define LTRACK_NAME_MATCH (1ull << 63)
__u64 ltrack_match_name(struct scratch *buf, __u32 len, __u32 slot, __u32 profile, __u32 hook);

static __always_inline bool match_name_rule(struct dentry *dentry, __u32 slot, __u32 profile, __u32 hook,
					    struct scratch *buf, struct ltrack_rule *out)
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

#endif /* LTRACK_WALK_BPF_H */
