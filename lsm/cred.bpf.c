// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* Privilege escalation: a governed task whose credentials gain privilege.
 * Escalation is gaining root in an id, or capabilities:
 *   - set*uid(2) that makes the real, effective, saved or filesystem uid 0
 *     where it was not (task_fix_setuid); set*gid(2) likewise for gid 0
 *     (task_fix_setgid). Dropping privilege (root -> 65534) is not one.
 *   - capset(2) that adds capabilities to the effective or permitted set.
 *   - an exec whose new credentials have euid 0 where the caller's was not
 *     (a set-user-ID-root program), egid 0 likewise, or effective
 *     capabilities the caller did not have (file capabilities)
 *     (bprm_creds_from_file, which runs after the commoncap module computed
 *     them).
 * The profile's privilege action decides (audit when the policy says
 * nothing); every escalation that is not allowed is recorded. */
#include "decision.bpf.h"
#include "record.bpf.h"

/* kernel_cap_t is { __u32 cap[2]; } up to 6.2 and { u64 val; } after:
 * the same 8 little-endian bytes. The field's offset is relocated. */
static __always_inline __u64 caps_of(const kernel_cap_t *c)
{
	__u64 v = 0;

	bpf_core_read(&v, sizeof(v), c);
	return v;
}

struct cred_change {
	__u32 op;
	__u32 old_ids[3];
	__u32 new_ids[3];
	__u64 old_caps;
	__u64 new_caps;
};

static __always_inline void uids_of(const struct cred *c, __u32 ids[3])
{
	ids[0] = BPF_CORE_READ(c, uid.val);
	ids[1] = BPF_CORE_READ(c, euid.val);
	ids[2] = BPF_CORE_READ(c, suid.val);
}

static __always_inline void gids_of(const struct cred *c, __u32 ids[3])
{
	ids[0] = BPF_CORE_READ(c, gid.val);
	ids[1] = BPF_CORE_READ(c, egid.val);
	ids[2] = BPF_CORE_READ(c, sgid.val);
}

static __always_inline bool gains_zero(const __u32 old_ids[3], const __u32 new_ids[3], __u32 old_fs, __u32 new_fs)
{
	return (new_ids[0] == 0 && old_ids[0] != 0) || (new_ids[1] == 0 && old_ids[1] != 0) ||
	       (new_ids[2] == 0 && old_ids[2] != 0) || (new_fs == 0 && old_fs != 0);
}

/* The decision for an escalation, recorded with the change (and, for an
 * exec, the program). */
static __always_inline int escalation(struct cred_change *c, struct file *file)
{
	struct ltrack_profile *p;
	struct ltrack_event *e;
	struct decision d = {};
	struct view v;
	int err;

	p = begin_decision(&v, &d, LTRACK_HOOK_PRIV);
	if (!p)
		return 0;
	decide_by_profile(&d, p->priv_action, LTRACK_ACT_AUDIT, p->priv_rule);
	e = settle_and_reserve(&d, &err);
	if (!e)
		return err;
	e->cred_op = c->op;
	__builtin_memcpy(e->old_ids, c->old_ids, sizeof(e->old_ids));
	__builtin_memcpy(e->new_ids, c->new_ids, sizeof(e->new_ids));
	e->old_caps = c->old_caps;
	e->new_caps = c->new_caps;
	if (file)
		record_file(e, file);
	submit_record(e);
	return err;
}

/* set*uid and set*gid: gaining id 0 in the real, effective, saved or
 * filesystem id. */
static __always_inline int id_change(__u32 op, const struct cred *new, const struct cred *old)
{
	struct cred_change c = {.op = op};
	__u32 old_fs, new_fs;

	if (op == LTRACK_CRED_SETGID) {
		gids_of(old, c.old_ids);
		gids_of(new, c.new_ids);
		old_fs = BPF_CORE_READ(old, fsgid.val);
		new_fs = BPF_CORE_READ(new, fsgid.val);
	} else {
		uids_of(old, c.old_ids);
		uids_of(new, c.new_ids);
		old_fs = BPF_CORE_READ(old, fsuid.val);
		new_fs = BPF_CORE_READ(new, fsuid.val);
	}
	if (!gains_zero(c.old_ids, c.new_ids, old_fs, new_fs))
		return 0;
	return escalation(&c, NULL);
}

SEC("lsm/task_fix_setuid")
int BPF_PROG(guard_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	return ret ? ret : id_change(LTRACK_CRED_SETUID, new, old);
}

SEC("lsm/task_fix_setgid")
int BPF_PROG(guard_setgid, struct cred *new, const struct cred *old, int flags, int ret)
{
	return ret ? ret : id_change(LTRACK_CRED_SETGID, new, old);
}

SEC("lsm/capset")
int BPF_PROG(guard_capset, struct cred *new, const struct cred *old, const kernel_cap_t *effective,
	     const kernel_cap_t *inheritable, const kernel_cap_t *permitted, int ret)
{
	struct cred_change c = {.op = LTRACK_CRED_CAPSET};
	__u64 old_perm, new_perm;

	if (ret)
		return ret;
	c.old_caps = caps_of(&old->cap_effective);
	c.new_caps = caps_of(effective);
	old_perm = caps_of(&old->cap_permitted);
	new_perm = caps_of(permitted);
	uids_of(old, c.old_ids);
	uids_of(old, c.new_ids);
	if (!(c.new_caps & ~c.old_caps) && !(new_perm & ~old_perm))
		return 0;
	return escalation(&c, NULL);
}

SEC("lsm/bprm_creds_from_file")
int BPF_PROG(guard_exec_creds, struct linux_binprm *bprm, struct file *file, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct cred *old = BPF_CORE_READ(task, cred);
	const struct cred *new = BPF_CORE_READ(bprm, cred);
	struct cred_change c = {.op = LTRACK_CRED_EXEC};
	__u32 old_gids[3], new_gids[3];

	if (ret)
		return ret;
	uids_of(old, c.old_ids);
	uids_of(new, c.new_ids);
	gids_of(old, old_gids);
	gids_of(new, new_gids);
	c.old_caps = caps_of(&old->cap_effective);
	c.new_caps = caps_of(&new->cap_effective);
	if (!(c.new_ids[1] == 0 && c.old_ids[1] != 0) && !(new_gids[1] == 0 && old_gids[1] != 0) &&
	    !(c.new_caps & ~c.old_caps))
		return 0;
	return escalation(&c, file);
}
