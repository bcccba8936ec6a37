// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* Mounts: a governed task may not change what the file tree looks like
 * (mount, bind, move, remount, propagation, umount, pivot_root, and a new
 * filesystem instance through fsopen/fsconfig) unless its profile's
 * [mount] default says so: an overlay whose lower directory is a denied one,
 * or a bind mount of a file onto an allowed name, would show denied files
 * under identities no rule names. Whatever the profile says, nothing is
 * mounted on, moved from or unmounted off a bpffs (ltrack's pins live
 * there).
 * The new mount API: fsconfig(FSCONFIG_CMD_CREATE) makes the instance
 * (sb_set_mnt_opts, called for every new superblock), fsconfig(RECONFIGURE)
 * changes one (sb_remount), move_mount(2) attaches or moves (move_mount).
 * mount(2) of a new filesystem passes sb_mount first, then sb_set_mnt_opts:
 * enforced, the first refuses; audited, both are recorded. */
#include "decision.bpf.h"
#include "record.bpf.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_PROPAGATION ((1 << 17) | (1 << 18) | (1 << 19) | (1 << 20)) /* UNBINDABLE PRIVATE SLAVE SHARED */

static __always_inline bool on_bpffs(struct dentry *dentry)
{
	return dentry && BPF_CORE_READ(dentry, d_sb, s_magic) == BPF_FS_MAGIC;
}

/* The decision for one mount operation on (dentry, vfsmnt): the mountpoint,
 * or a filesystem's root (vfsmnt 0: the record's path is then fstype). */
static __always_inline int mount_decision(__u32 op, struct dentry *dentry, __u64 vfsmnt, bool bpffs,
					  struct super_block *sb)
{
	struct ltrack_profile *p;
	struct ltrack_event *e;
	struct decision d = {};
	struct scratch *buf;
	struct view v;
	int err;

	p = begin_decision_scratch(&v, &d, LTRACK_HOOK_MOUNT, &buf);
	if (!p)
		return 0;
	if (bpffs) {
		d.action = LTRACK_ACT_DENY;
		d.flags |= LTRACK_EV_BPFFS;
	} else {
		decide_by_profile(&d, p->mount_action, LTRACK_ACT_DENY, p->mount_rule);
	}
	e = settle_and_reserve(&d, &err);
	if (!e)
		return err;
	e->cred_op = op;
	if (vfsmnt) {
		record_dentry(e, dentry, vfsmnt, buf);
	} else if (sb) {
		struct inode *root = BPF_CORE_READ(sb, s_root, d_inode);

		e->dev = BPF_CORE_READ(sb, s_dev);
		e->ino = root ? BPF_CORE_READ(root, i_ino) : 0;
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(sb, s_type, name));
	}
	submit_record(e);
	return err;
}

SEC("lsm/sb_mount")
int BPF_PROG(guard_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags,
	     void *data, int ret)
{
	__u32 op = LTRACK_FS_MOUNT;

	if (ret)
		return ret;
	/* The order path_mount() tries them in. */
	if (flags & MS_REMOUNT)
		op = LTRACK_FS_REMOUNT;
	else if (flags & MS_BIND)
		op = LTRACK_FS_BIND;
	else if (flags & MS_PROPAGATION)
		op = LTRACK_FS_PROPAGATION;
	else if (flags & MS_MOVE)
		op = LTRACK_FS_MOVE;
	return mount_decision(op, path->dentry, scalar_of(path->mnt), on_bpffs(path->dentry), NULL);
}

SEC("lsm/move_mount")
int BPF_PROG(guard_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	return mount_decision(LTRACK_FS_MOVE, to_path->dentry, scalar_of(to_path->mnt),
			      on_bpffs(from_path->dentry) || on_bpffs(to_path->dentry), NULL);
}

SEC("lsm/sb_umount")
int BPF_PROG(guard_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return ret;
	/* The mount's root, on the mount: the record names its mountpoint. */
	return mount_decision(LTRACK_FS_UMOUNT, mnt->mnt_root, scalar_of(mnt), on_bpffs(mnt->mnt_root), NULL);
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(guard_sb_pivotroot, const struct path *old_path, const struct path *new_path, int ret)
{
	if (ret)
		return ret;
	return mount_decision(LTRACK_FS_PIVOT_ROOT, new_path->dentry, scalar_of(new_path->mnt),
			      on_bpffs(old_path->dentry) || on_bpffs(new_path->dentry), NULL);
}

SEC("lsm/sb_remount")
int BPF_PROG(guard_sb_remount, struct super_block *sb, void *mnt_opts, int ret)
{
	if (ret)
		return ret;
	return mount_decision(LTRACK_FS_REMOUNT, NULL, 0, sb->s_magic == BPF_FS_MAGIC, sb);
}

SEC("lsm/sb_set_mnt_opts")
int BPF_PROG(guard_sb_new, struct super_block *sb, void *mnt_opts, unsigned long kern_flags,
	     unsigned long *set_kern_flags, int ret)
{
	if (ret)
		return ret;
	return mount_decision(LTRACK_FS_NEW_SB, NULL, 0, false, sb);
}
