// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* ltrack defends itself: whatever its profile says, a governed process (even
 * root) may not
 *   - call bpf(2) at all: the pinned maps, links and programs are reached
 *     only through it (BPF_OBJ_GET, map updates, new programs, ring buffer
 *     records);
 *   - signal (kill(2) and the like, or an F_SETOWN file's I/O signal), ptrace (attach, /proc/PID/mem, process_vm_readv/writev,
 *     pidfd_getfd, /proc/PID/environ and the like: all ptrace_may_access),
 *     renice, reschedule or re-limit ltrack's own processes ("guardians" in
 *     abi.h: ltrackd and `ltrackctl run` supervisors);
 *   - connect to, unlink or rename ltrackd's control socket (the inode it
 *     bound) or its directory; unlink or rename its report socket (which a
 *     governed process may connect to: its Python audit hook reports there), nor unlink, rename, truncate or open for
 *     writing its policy file or executable ("protected_files", by inode);
 *   - unlink, rename, link or open anything on bpffs, where the pins live
 *     (mounts on or of a bpffs: lsm/mount.bpf.c, whatever the profile says).
 * Each attempt is a TAMPER decision: refused with EPERM (would_deny and
 * allowed in audit mode), recorded with what was tried, and counted. An
 * ungoverned process (the administrator) is never touched. */
#include "decision.bpf.h"
#include "record.bpf.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define PTRACE_MODE_NOAUDIT 0x04
#define FMODE_WRITE 0x2
#define SIGIO 29

/* Decides an attempt by the current task: false (allow) when it is not
 * governed; else the verdict in *err. */
static __always_inline bool refuse(struct decision *d, int *err)
{
	struct view v;

	if (!begin_decision(&v, d, LTRACK_HOOK_TAMPER))
		return false;
	d->action = LTRACK_ACT_DENY;
	*err = settle(d);
	return true;
}

/* Counts the attempt and reserves its record; the caller adds the object
 * and submits. NULL when the ring is full (counted by new_record). */
static __always_inline struct ltrack_event *tamper_record(struct decision *d, __u32 op, __u32 target_pid, __u64 arg)
{
	struct ltrack_event *e;

	count(LTRACK_CNT_TAMPER);
	e = new_record(d);
	if (e) {
		e->tamper_op = op;
		e->target_pid = target_pid;
		e->tamper_arg = arg;
	}
	return e;
}

/* An operation on another process: refused when that process is one of
 * ltrack's own. Quiet ones are refused without a record or a count (the
 * kernel's PTRACE_MODE_NOAUDIT probes, e.g. ps reading /proc/PID/stat). */
static __always_inline int guard_target(struct task_struct *target, __u32 op, __u64 arg, bool quiet)
{
	struct ltrack_event *e;
	struct decision d = {};
	int err;

	if (!is_guardian(target) || !refuse(&d, &err))
		return 0;
	if (quiet)
		return err;
	e = tamper_record(&d, op, target->tgid, arg);
	if (e)
		submit_record(e);
	return err;
}

static __always_inline bool on_bpffs(struct inode *inode)
{
	return inode && inode->i_sb->s_magic == BPF_FS_MAGIC;
}

/* A rename's or link's target dentry may be negative. 6.12's verifier takes
 * dentry->d_inode for a trusted, never-NULL pointer: it drops the NULL
 * check below as dead code and loads inode->i_sb unguarded, an oops on a
 * negative dentry. So d_inode, and everything after it, is read by helper. */
static __always_inline bool is_protected_file(struct dentry *dentry)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct ltrack_file_key key;

	if (!inode)
		return false;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	return bpf_map_lookup_elem(&protected_files, &key) != NULL;
}

/* An unlink, rename, link or mark: the record names the object by its
 * identity and final name (bpf_d_path is not allowed in these hooks). */
static __always_inline int guard_dentry(struct dentry *dentry, __u32 op, __u64 arg)
{
	struct ltrack_event *e;
	struct decision d = {};
	struct inode *inode;
	int err;

	if (!refuse(&d, &err))
		return 0;
	e = tamper_record(&d, op, 0, arg);
	if (!e)
		return err;
	inode = BPF_CORE_READ(dentry, d_inode); /* see is_protected_file */
	if (inode) {
		e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
		e->ino = BPF_CORE_READ(inode, i_ino);
	}
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(dentry, d_name.name));
	e->flags |= LTRACK_EV_PATH_PARTIAL;
	submit_record(e);
	return err;
}

/* bpf(2): every command. ltrackd and the administrator's tools (bpftool) are
 * not governed. The hook's arguments differ between kernels after `size`
 * (later kernels add one); only `cmd` is read. An LSM program's `ret` is
 * always 0 when it runs (a non-zero return of an earlier program ends the
 * chain), so none is read here either. */
SEC("lsm/bpf")
int BPF_PROG(guard_bpf, int cmd)
{
	struct ltrack_event *e;
	struct decision d = {};
	int err;

	if (!refuse(&d, &err))
		return 0;
	e = tamper_record(&d, LTRACK_TAMPER_BPF, 0, (__u32)cmd);
	if (e)
		submit_record(e);
	return err;
}

/* fanotify permission events (FAN_OPEN_PERM, FAN_ACCESS_PERM,
 * FAN_OPEN_EXEC_PERM): a governed process may not mark anything for them.
 * Under scan_at_open the kernel passes an unscanned model's open on when
 * the directory's fsnotify mask asks for open permission events, which any
 * group's mark sets: a governed group's mark would keep that promise in
 * ltrackd's stead (while ltrackd re-marks at a reload) and answer it. A
 * governed group could also hold every open of a file it marks. Marks for
 * plain notifications (inotify, FAN_OPEN, FAN_MODIFY) are not refused. */
#define LTRACK_FS_PERM_EVENTS (0x00010000ull | 0x00020000ull | 0x00040000ull)

SEC("lsm/path_notify")
int BPF_PROG(guard_path_notify, const struct path *path, __u64 mask, unsigned int obj_type)
{
	if (!(mask & LTRACK_FS_PERM_EVENTS))
		return 0;
	return guard_dentry(BPF_CORE_READ(path, dentry), LTRACK_TAMPER_NOTIFY, mask);
}

/* kill, tgkill, pidfd_send_signal, rt_sigqueueinfo, process groups: every
 * signal a process sends goes through check_kill_permission. */
SEC("lsm/task_kill")
int BPF_PROG(guard_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig, const struct cred *cred,
	     int ret)
{
	if (ret)
		return ret;
	return guard_target(p, LTRACK_TAMPER_SIGNAL, (__u32)sig, false);
}

/* The other way to signal a process: fcntl(F_SETOWN) names any process as
 * the owner of a file's I/O signals and F_SETSIG makes them any signal,
 * SIGKILL included; they are sent by whoever causes the I/O (a write to a
 * pipe, a packet in interrupt context), without task_kill. ltrack's own
 * processes never ask for them, so every one aimed at them is refused:
 * recorded (and, in audit mode, let through) when a governed task causes
 * it, silently dropped otherwise. */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(guard_sigio, struct task_struct *tsk, struct fown_struct *fown, int sig, int ret)
{
	struct ltrack_event *e;
	struct decision d = {};
	int err;

	if (ret)
		return ret;
	if (!is_guardian(tsk))
		return 0;
	if (!refuse(&d, &err))
		return -EPERM;
	e = tamper_record(&d, LTRACK_TAMPER_SIGNAL, tsk->tgid, (__u32)(sig ? sig : SIGIO));
	if (e)
		submit_record(e);
	return err;
}

/* __ptrace_may_access: PTRACE_ATTACH/SEIZE, /proc/PID/mem (mm_access),
 * process_vm_readv/writev, pidfd_getfd, kcmp, /proc/PID/{environ,fd,...}. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(guard_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	return guard_target(child, LTRACK_TAMPER_PTRACE, mode, mode & PTRACE_MODE_NOAUDIT);
}

/* Stalling ltrack: nice 19, SCHED_IDLE, a one-CPU affinity, idle I/O
 * priority, or an RLIMIT_NOFILE of 0 set with prlimit(2). */
SEC("lsm/task_setnice")
int BPF_PROG(guard_setnice, struct task_struct *p, int nice, int ret)
{
	return ret ? ret : guard_target(p, LTRACK_TAMPER_SCHED, LTRACK_SCHED_NICE, false);
}

SEC("lsm/task_setscheduler")
int BPF_PROG(guard_setscheduler, struct task_struct *p, int ret)
{
	return ret ? ret : guard_target(p, LTRACK_TAMPER_SCHED, LTRACK_SCHED_POLICY, false);
}

SEC("lsm/task_setioprio")
int BPF_PROG(guard_setioprio, struct task_struct *p, int ioprio, int ret)
{
	return ret ? ret : guard_target(p, LTRACK_TAMPER_SCHED, LTRACK_SCHED_IOPRIO, false);
}

SEC("lsm/task_setrlimit")
int BPF_PROG(guard_setrlimit, struct task_struct *p, unsigned int resource, struct rlimit *new_rlim, int ret)
{
	return ret ? ret : guard_target(p, LTRACK_TAMPER_SCHED, LTRACK_SCHED_RLIMIT, false);
}

/* An exec ends a guardian: what runs next is not ltrack. */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(drop_guardian, struct linux_binprm *bprm)
{
	bpf_task_storage_delete(&guardians, bpf_get_current_task_btf());
	return 0;
}

/* connect(2) to a listening Unix socket, after the kernel found it: `other`
 * is ltrackd's control socket when it is bound to a protected inode, by
 * whatever path (a hard link, /proc/PID/root/...) the caller reached it. */
SEC("lsm/unix_stream_connect")
int BPF_PROG(guard_unix_connect, struct sock *sock, struct sock *other, struct sock *newsk, int ret)
{
	struct unix_sock *u = (struct unix_sock *)other;
	struct dentry *dentry = BPF_CORE_READ(u, path.dentry);
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct ltrack_file_key key;
	struct ltrack_event *e;
	struct decision d = {};
	__u32 *how;
	int err;

	if (ret)
		return ret;
	if (!inode)
		return 0; /* an abstract or unbound socket */
	key.dev = inode_dev(inode);
	key.ino = BPF_CORE_READ(inode, i_ino);
	how = bpf_map_lookup_elem(&protected_files, &key);
	/* The report socket is the one ltrack socket a governed process may
	 * reach: it only takes reports, and ltrackd names their sender by its
	 * kernel label, never by what they say (runtime/report_server.h). */
	if (!how || *how == LTRACK_PROTECT_REPORT || !refuse(&d, &err))
		return 0;
	e = tamper_record(&d, LTRACK_TAMPER_CONNECT, 0, 0);
	if (!e)
		return err;
	e->family = AF_UNIX;
	e->dev = key.dev;
	e->ino = key.ino;
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(dentry, d_name.name));
	e->flags |= LTRACK_EV_PATH_PARTIAL;
	submit_record(e);
	return err;
}

SEC("lsm/inode_unlink")
int BPF_PROG(guard_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	if (!on_bpffs(dir) && !is_protected_file(dentry))
		return 0;
	return guard_dentry(dentry, LTRACK_TAMPER_UNLINK, 0);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(guard_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	if (!on_bpffs(dir) && !is_protected_file(dentry))
		return 0;
	return guard_dentry(dentry, LTRACK_TAMPER_UNLINK, 0);
}

/* A rename on bpffs, or of the control socket's file, or over it (which
 * would put another socket where ltrackctl looks). */
SEC("lsm/inode_rename")
int BPF_PROG(guard_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	if (on_bpffs(old_dir) || on_bpffs(new_dir) || is_protected_file(old_dentry))
		return guard_dentry(old_dentry, LTRACK_TAMPER_RENAME, 0);
	if (is_protected_file(new_dentry))
		return guard_dentry(new_dentry, LTRACK_TAMPER_RENAME, 0);
	return 0;
}

SEC("lsm/inode_link")
int BPF_PROG(guard_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	if (!on_bpffs(dir))
		return 0;
	return guard_dentry(old_dentry, LTRACK_TAMPER_LINK, 0);
}

/* open(2) on bpffs (a pinned map opened as a file prints its contents), or
 * of a protected file for writing (ltrackd's policy file or executable).
 * Its own program on file_open: an open that is neither costs a few loads
 * and, only when opened for writing, one hash lookup. */
SEC("lsm/file_open")
int BPF_PROG(guard_self_open, struct file *file, int ret)
{
	struct ltrack_event *e;
	struct decision d = {};
	int err;

	if (ret)
		return ret;
	if (!on_bpffs(file->f_inode) && !((file->f_mode & FMODE_WRITE) && is_protected_file(file->f_path.dentry)))
		return 0;
	if (!refuse(&d, &err))
		return 0;
	e = tamper_record(&d, LTRACK_TAMPER_OPEN, 0, 0);
	if (e) {
		record_file(e, file);
		submit_record(e);
	}
	return err;
}

/* truncate(2) of a protected file (an open for writing is refused above). */
SEC("lsm/path_truncate")
int BPF_PROG(guard_truncate, const struct path *path, int ret)
{
	struct dentry *dentry = path->dentry;

	if (ret)
		return ret;
	if (!is_protected_file(dentry))
		return 0;
	return guard_dentry(dentry, LTRACK_TAMPER_OPEN, 0);
}
