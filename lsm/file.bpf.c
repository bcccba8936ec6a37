// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* file_open: model rules, then file rules (exact file, nearest directory,
 * name pattern, profile default), for governed tasks only. The same decision
 * guards the new names an object can get (path_link, path_rename): what a
 * governed task may not open it may not link or rename either. Built-in
 * refusals that need no policy line guard file_open in a program of their
 * own (guard_open_builtin). */
#include "walk.bpf.h"
#include "record.bpf.h"
#include "model_decision.h"

#define FMODE_READ 0x1

/* The scanner's verdict, if it still describes the file. A safe (or
 * trusted) verdict vouches for the bytes the scan read: it holds only at
 * the content generation the scan read them at (lsm/model.bpf.c) and
 * while no one holds the file open for writing (a writer's stores pass no
 * hook); otherwise the file is unscanned. A bad verdict holds until a new
 * scan replaces it, whatever happened to the file since. */
static __always_inline __u32 model_verdict(struct inode *inode)
{
	struct ltrack_model_key key = {
		.dev = inode->i_sb->s_dev, /* a BTF pointer: direct loads */
		.ino = inode->i_ino,
	};
	struct ltrack_model_val *v = bpf_map_lookup_elem(&models, &key);
	struct ltrack_content *c;

	if (!v)
		return LTRACK_VERDICT_UNSCANNED;
	if (v->verdict != LTRACK_VERDICT_SAFE && v->verdict != LTRACK_VERDICT_TRUSTED)
		return v->verdict;
	c = bpf_inode_storage_get(&model_content, inode, 0, 0);
	if (!c || c->gen != v->content_gen || inode->i_writecount.counter > 0)
		return LTRACK_VERDICT_UNSCANNED;
	return v->verdict;
}

/* The scan waiter (abi.h, "first open of an unscanned model"): alive (a
 * fresh heartbeat) and holding its FAN_OPEN_PERM mark on the directory the
 * file is opened in, so the kernel will stop this open at
 * fsnotify_open_perm for the waiter's answer. The mark is checked twice:
 * "wait_dirs" says the waiter placed it, the directory's fsnotify mask that
 * it is still there (a dead waiter's marks go with its fanotify group; its
 * heartbeat only goes stale). */
#define FS_OPEN_PERM 0x00010000
#define FS_EVENT_ON_CHILD 0x08000000
static __always_inline bool waiter_holds(struct dentry *dentry)
{
	struct ltrack_model_key k;
	struct ltrack_waiter *w;
	struct inode *dir;
	__u32 zero = 0, mask;

	w = bpf_map_lookup_elem(&waiter, &zero);
	if (!w || !w->beat_ns || bpf_ktime_get_boot_ns() - w->beat_ns > LTRACK_WAITER_STALE_NS)
		return false;
	/* A whole filesystem marked (FAN_MARK_FILESYSTEM: ltrackctl run, whose
	 * models are named by extension anywhere): wait_dirs has it as inode 0. */
	if (BPF_CORE_READ(dentry, d_sb, s_fsnotify_mask) & FS_OPEN_PERM) {
		k.dev = BPF_CORE_READ(dentry, d_sb, s_dev);
		k.ino = 0;
		if (bpf_map_lookup_elem(&wait_dirs, &k))
			return true;
	}
	dir = BPF_CORE_READ(dentry, d_parent, d_inode);
	if (!dir)
		return false;
	mask = BPF_CORE_READ(dir, i_fsnotify_mask);
	if ((mask & (FS_OPEN_PERM | FS_EVENT_ON_CHILD)) != (FS_OPEN_PERM | FS_EVENT_ON_CHILD))
		return false;
	k.dev = BPF_CORE_READ(dir, i_sb, s_dev);
	k.ino = BPF_CORE_READ(dir, i_ino);
	return bpf_map_lookup_elem(&wait_dirs, &k) != NULL;
}

/* Notes the refusal file_open would make of an unscanned model, for the
 * waiter's record, and lets the open go on to the waiter's answer. False
 * when it cannot (then the open is refused as before). */
static __always_inline bool pass_pending(struct inode *inode, struct decision *d, __u32 rule_id, __u8 action,
					 __u8 deny_suspicious)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ltrack_pending pe = {};
	__u64 id = bpf_get_current_pid_tgid(), ug = bpf_get_current_uid_gid();
	__u32 tid = (__u32)id;

	pe.dev = inode->i_sb->s_dev;
	pe.ino = inode->i_ino;
	pe.cgroup_id = bpf_get_current_cgroup_id();
	pe.ts_ns = bpf_ktime_get_boot_ns();
	pe.pid = id >> 32;
	pe.ppid = task->real_parent->tgid;
	pe.uid = (__u32)ug;
	pe.gid = ug >> 32;
	pe.profile = d->profile;
	pe.rule_id = rule_id;
	pe.flags = d->flags;
	pe.action = action;
	pe.mode = d->mode;
	pe.deny_suspicious = deny_suspicious;
	bpf_get_current_comm(pe.comm, sizeof(pe.comm));
	return bpf_map_update_elem(&pending, &tid, &pe, BPF_ANY) == 0;
}

/* Model layer (lsm/model_decision.h decides; this finds its facts): a
 * file is a model file when it is under one of the profile's model
 * directories, has one of its model names, or was scanned and found
 * dangerous (under whatever name it is opened); it may then be opened only
 * as the model rule says. An exclude directory (a MODEL subtree rule with
 * action ALLOW) nearer than any model directory makes a file below it no
 * model file by name or directory (Python's site directories: their .pth
 * files are site.py's, not checkpoints). This layer can only refuse; what
 * it lets through still goes through the file rules. Returns true when it
 * decided. file: the open being decided (NULL for a link or rename): under
 * scan_at_open its first open of an unscanned model waits for the scan
 * (see waiter_holds), and an open for writing only is no load. */
static __always_inline bool decide_model(struct dentry *dentry, const struct path *at, struct inode *inode,
					 struct ltrack_profile *p, struct view *v, struct scratch *buf, bool compact,
					 struct decision *d, struct file *file)
{
	struct ltrack_model_facts f = {.mode = d->mode};
	struct ltrack_model_decision md;
	struct ltrack_rule r = {};
	struct walk_result w;

	if (!ltrack_model_layer_on(p))
		return false;
	if ((p->flags & LTRACK_PF_MODEL_NAMES) &&
	    match_name_rule(dentry, v->slot, d->profile, LTRACK_HOOK_MODEL, buf, &r)) {
		f.by_name = 1;
		f.name_rule = r.rule_id;
	}
	if (ltrack_model_walk_needed(p, f.by_name)) {
		find_inode_rule(dentry, at, v, d->profile, LTRACK_HOOK_MODEL, compact, &w);
		/* A walk that hit its bound found nothing: a name match stays. */
		if (w.found) {
			f.dir = w.rule.action == LTRACK_ACT_ALLOW ? LTRACK_MD_DIR_EXCLUDE : LTRACK_MD_DIR_MODEL;
			f.dir_rule = w.rule.rule_id;
		}
	}
	f.verdict = model_verdict(inode);
	f.access = !file ? LTRACK_MD_NAME : (file->f_mode & FMODE_READ) ? LTRACK_MD_READ : LTRACK_MD_WRITE_ONLY;
	md = ltrack_model_decide(p, &f);
	if (md.outcome != LTRACK_MD_RECORD && md.outcome != LTRACK_MD_REFUSE)
		return false;
	if (md.may_wait && waiter_holds(dentry) &&
	    pass_pending(inode, d, md.rule_id, md.action, !!(p->flags & LTRACK_PF_DENY_SUSPICIOUS)))
		return false;
	d->hook = LTRACK_HOOK_MODEL;
	d->verdict = f.verdict;
	d->rule_id = md.rule_id;
	d->action = md.action;
	return true;
}

static __always_inline void decide_file(struct dentry *dentry, const struct path *at, struct ltrack_profile *p,
					struct view *v, struct scratch *buf, bool compact, struct decision *d)
{
	struct walk_result w;
	struct ltrack_rule r;

	if (p->flags & LTRACK_PF_INODE_RULES) {
		find_inode_rule(dentry, at, v, d->profile, LTRACK_HOOK_FILE, compact, &w);
		if (w.limit) {
			/* Too deep, or cut off, to know which directory rule applies. */
			walk_failed(d, compact ? w.limit : LTRACK_EV_WALK_LIMIT);
			return;
		}
		if (w.found) {
			d->action = w.rule.action;
			d->rule_id = w.rule.rule_id;
			return;
		}
	}
	if ((p->flags & LTRACK_PF_NAME_RULES) &&
	    match_name_rule(dentry, v->slot, d->profile, LTRACK_HOOK_FILE, buf, &r)) {
		d->action = r.action;
		d->rule_id = r.rule_id;
		return;
	}
	d->action = p->file_default;
	d->rule_id = p->file_default_rule;
	d->is_default = 1;
}

SEC("lsm/file_open")
int BPF_PROG(guard_file_open, struct file *file, int ret)
{
	struct ltrack_profile *p;
	struct decision d = {};
	struct scratch *buf;
	struct view v;

	if (ret)
		return ret;
	p = begin_decision_scratch(&v, &d, LTRACK_HOOK_FILE, &buf);
	if (!p)
		return 0;
	if (!decide_model(file->f_path.dentry, &file->f_path, file->f_inode, p, &v, buf, false, &d, file))
		decide_file(file->f_path.dentry, &file->f_path, p, &v, buf, false, &d);
	return finish_file_decision(&d, file);
}

static __always_inline bool is_root(struct dentry *d)
{
	return d->d_parent == d;
}

/* A dentry cut off from its directory (see "built-in refusals" below): its
 * own root, but neither its filesystem's nor its mount's, on a filesystem
 * with directories. */
static __always_inline bool cut_off(struct dentry *d, struct vfsmount *mnt)
{
	return is_root(d) && d != d->d_sb->s_root && d != mnt->mnt_root && !nameless_fs(d->d_sb->s_magic);
}

/* An ancestor of an inode-bound rule's target (abi.h, "inode_rules"): the
 * object is a directory or symlink on the way to it. Moving it, replacing it
 * or removing it would let the path the rule names lead elsewhere, so the
 * operation is refused with the rule whose target lies below. inode is a
 * BTF pointer the caller knows to be non-NULL. */
static __always_inline bool ancestor_of_target(struct inode *inode, struct ltrack_profile *p, struct view *v,
					       struct decision *d)
{
	struct ltrack_inode_key key = {.slot = v->slot, .profile = d->profile, .hook = LTRACK_HOOK_ANCESTOR};
	struct ltrack_inode_rule *r;

	if (!(p->flags & LTRACK_PF_ANCESTORS))
		return false;
	key.dev = inode->i_sb->s_dev;
	key.ino = inode->i_ino;
	r = bpf_map_lookup_elem(&inode_rules, &key);
	if (!r)
		return false;
	d->flags |= LTRACK_EV_ANCESTOR;
	d->action = LTRACK_ACT_DENY;
	d->rule_id = r->self_rule;
	d->is_default = 0;
	return true;
}

/* What a governed task may not open it may not give a new name: a hard
 * link or a rename into an allowed directory, or to a name no rule matches
 * (x.pkl -> x.dat, x.PKL), would open it past the rule that refuses it now.
 * Nor may it take the name away from it: file and dir rules are compiled to
 * inodes, so unlinking a denied file and creating it again, or renaming a
 * new file over it, leaves a new inode at the path that no rule names (and
 * a model file replaced that way loses its verdict). So a link, rename,
 * unlink, rmdir, or rename over an object the open decision (model layer,
 * then file rules, for a read) refuses is refused with that decision's
 * rule, mode and verdict, and recorded as a LINK decision whose op says
 * which. An object the task may open loses nothing by moving, unless it
 * leads to a rule's target (ancestor_of_target): inode rules (file, dir,
 * model directory) stay with the inode and everything under a moved
 * directory, and name rules follow names, so a move can only put it under a
 * stricter rule; but a rule's path is resolved again when a name on its way
 * changes (runtime/target_watch.h), and would then name what the process
 * put there, the real object left under a path no rule names.
 * dentry must be positive. A rename target can be negative, and 6.12's
 * verifier takes dentry->d_inode for never-NULL (it drops the check below
 * as dead code): callers with a target check it by helper first
 * (guard_path_replace). */
static __always_inline int guard_by_open_decision(struct dentry *dentry, const struct path *at, __u32 op)
{
	struct inode *inode = dentry->d_inode;
	struct ltrack_profile *p;
	struct ltrack_event *e;
	struct decision d = {};
	struct scratch *buf;
	struct view v;
	int err;

	p = begin_decision_scratch(&v, &d, LTRACK_HOOK_FILE, &buf);
	if (!p || !inode)
		return 0;
	if (cut_off(dentry, at->mnt)) {
		/* linkat(AT_EMPTY_PATH) of an O_PATH descriptor open_by_handle_at
		 * gave (O_PATH opens pass no file_open): its name and directories
		 * are unknown, so no rule can be checked. */
		count(LTRACK_CNT_DISCONNECTED);
		d.flags |= LTRACK_EV_DISCONNECTED;
		d.action = LTRACK_ACT_DENY;
	} else if (!decide_model(dentry, at, inode, p, &v, buf, true, &d, NULL)) {
		decide_file(dentry, at, p, &v, buf, true, &d);
	}
	/* A link adds a name and moves nothing: an ancestor may get one. */
	if (d.action != LTRACK_ACT_DENY && d.action != LTRACK_ACT_KILL &&
	    (op == LTRACK_FS_LINK || !ancestor_of_target(inode, p, &v, &d)))
		return 0;
	if (d.hook == LTRACK_HOOK_MODEL)
		d.flags |= LTRACK_EV_BY_MODEL;
	d.hook = LTRACK_HOOK_LINK;
	err = settle(&d);
	e = new_record(&d);
	if (e) {
		e->cred_op = op;
		record_dentry(e, dentry, scalar_of(at->mnt), buf);
		submit_record(e);
	}
	return err;
}

SEC("lsm/path_link")
int BPF_PROG(guard_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	/* link(2) works within one mount (EXDEV otherwise): new_dir's is old_dentry's. */
	return guard_by_open_decision(old_dentry, new_dir, LTRACK_FS_LINK);
}

SEC("lsm/path_rename")
int BPF_PROG(guard_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	return guard_by_open_decision(old_dentry, old_dir, LTRACK_FS_RENAME);
}

/* The target of a rename, when there is one: RENAME_EXCHANGE moves it the
 * other way, a plain rename replaces it (unlinks it). The same decision for
 * it, in a program of its own (one decision per program keeps each small).
 * The kernel calls security_path_rename (fs/namei.c do_renameat2, 6.1 and
 * 6.12) after looking the target up and before locking it out: new_dentry
 * is negative for a new name (and always under RENAME_NOREPLACE, which fails
 * with EEXIST before the hook otherwise), so d_inode is read by helper. */
#define RENAME_EXCHANGE (1 << 1)
SEC("lsm/path_rename")
int BPF_PROG(guard_path_rename_target, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	if (!BPF_CORE_READ(new_dentry, d_inode))
		return 0; /* a new name: nothing replaced */
	return guard_by_open_decision(new_dentry, new_dir,
				      (flags & RENAME_EXCHANGE) ? LTRACK_FS_EXCHANGE : LTRACK_FS_REPLACE);
}

/* unlink(2), unlinkat(2): do_unlinkat calls security_path_unlink(dir, dentry)
 * only for a positive dentry (ENOENT before it otherwise); do_rmdir the same
 * for security_path_rmdir. Both on 6.1 and 6.12. */
SEC("lsm/path_unlink")
int BPF_PROG(guard_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return guard_by_open_decision(dentry, dir, LTRACK_FS_UNLINK);
}

SEC("lsm/path_rmdir")
int BPF_PROG(guard_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return guard_by_open_decision(dentry, dir, LTRACK_FS_RMDIR);
}

/* ---- built-in refusals: no policy line needed ----
 * A disconnected dentry: open_by_handle_at (CAP_DAC_READ_SEARCH) opens a
 * file by its handle; when the dentry cache no longer holds it, the kernel
 * makes a dentry that is its own root, named "/", with no parent: neither a
 * directory rule above it nor its name can be checked. A root that is
 * neither its filesystem's nor its mount's is such a dentry; a governed
 * open (or exec) of it fails closed, whatever the profile's rules, and so
 * does a link of one (guard_by_open_decision) or a walk that meets one above the
 * object (ltrack_walk). Only a file stays cut off: opening a directory by
 * handle reconnects it to its parents.
 * Host-wide launch points: files whose content the kernel later runs as a
 * program, as root, outside every profile: core_pattern ("|/path" pipes
 * core dumps to a program), modprobe (run on request_module), hotplug and
 * /sys/kernel/uevent_helper (run on every uevent), poweroff_cmd (orderly
 * power-off), usermodehelper/{bset,inheritable} (the helpers' capability bounds), and
 * binfmt_misc (register an interpreter, run for matching executables). A
 * governed open of any of them for writing is refused. They are known by
 * their place in procfs, sysfs or binfmt_misc (which filesystem, and the
 * names up to its root), which no rename or bind mount changes. */
#define FMODE_WRITE 0x2
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define BINFMTFS_MAGIC 0x42494e4d

static __always_inline bool name_is(struct dentry *d, const char *s, __u32 n)
{
	char b[16];

	if (d->d_name.len != n || n > sizeof(b))
		return false;
	if (bpf_probe_read_kernel(b, n, d->d_name.name) < 0)
		return false;
	for (__u32 i = 0; i < n; i++)
		if (b[i] != s[i])
			return false;
	return true;
}
#define NAME_IS(d, lit) name_is(d, lit, sizeof(lit) - 1)

static __always_inline bool launch_point(struct dentry *dentry)
{
	unsigned long magic = dentry->d_sb->s_magic;
	struct dentry *dir = dentry->d_parent;

	if (magic == BINFMTFS_MAGIC)
		return true;
	if (magic == SYSFS_MAGIC)
		return NAME_IS(dentry, "uevent_helper") && NAME_IS(dir, "kernel") && is_root(dir->d_parent);
	if (magic != PROC_SUPER_MAGIC)
		return false;
	if (NAME_IS(dir, "usermodehelper"))
		dir = dir->d_parent;
	else if (!NAME_IS(dentry, "core_pattern") && !NAME_IS(dentry, "modprobe") && !NAME_IS(dentry, "hotplug") &&
		 !NAME_IS(dentry, "poweroff_cmd"))
		return false;
	return NAME_IS(dir, "kernel") && NAME_IS(dir->d_parent, "sys") && is_root(dir->d_parent->d_parent);
}

/*
 * Cgroup control: a process written into a cgroup's cgroup.procs or
 * cgroup.threads (v1: tasks) moves there, and cgroup.freeze (v1:
 * freezer.state) and cgroup.kill stop or kill every process in it. A
 * governed root process could so freeze or kill ltrackd or an `ltrackctl run`
 * supervisor (no signal reaches them, but these files are not signals) or
 * move it into a cgroup it froze. No LSM hook sees cgroup migration, so the
 * write open of these files is refused to governed processes, wherever the
 * cgroup filesystem is mounted.
 */
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270

static __always_inline bool cgroup_control(struct dentry *dentry)
{
	unsigned long magic = dentry->d_sb->s_magic;

	if (magic != CGROUP2_SUPER_MAGIC && magic != CGROUP_SUPER_MAGIC)
		return false;
	return NAME_IS(dentry, "cgroup.procs") || NAME_IS(dentry, "cgroup.threads") ||
	       NAME_IS(dentry, "cgroup.freeze") || NAME_IS(dentry, "cgroup.kill") || NAME_IS(dentry, "tasks") ||
	       NAME_IS(dentry, "freezer.state");
}

SEC("lsm/file_open")
int BPF_PROG(guard_open_builtin, struct file *file, int ret)
{
	struct dentry *dentry = file->f_path.dentry;
	struct ltrack_profile *p;
	struct decision d = {};
	struct view v;
	__u32 why = 0;

	if (ret)
		return ret;
	if (cut_off(dentry, file->f_path.mnt))
		why = LTRACK_EV_DISCONNECTED;
	else if ((file->f_mode & FMODE_WRITE) && launch_point(dentry))
		why = LTRACK_EV_LAUNCH_POINT;
	else if ((file->f_mode & FMODE_WRITE) && cgroup_control(dentry))
		why = LTRACK_EV_CGROUP_CONTROL;
	if (!why)
		return 0;
	p = begin_decision(&v, &d, LTRACK_HOOK_FILE);
	if (!p)
		return 0;
	/* Whatever guard_file_open decided from the rules it could see (its
	 * walk crosses from the cut-off dentry to the mountpoint and goes on
	 * above it), this program's refusal stands: the kernel takes the
	 * first error of the programs on a hook. */
	if (why == LTRACK_EV_DISCONNECTED)
		count(LTRACK_CNT_DISCONNECTED);
	d.flags |= why;
	d.action = LTRACK_ACT_DENY;
	return finish_file_decision(&d, file);
}
