// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* bprm_check_security: which programs a governed task may execute. Called
 * once per binfmt round, so a script's interpreter is checked too. */
#include "walk.bpf.h"
#include "record.bpf.h"

SEC("lsm/bprm_check_security")
int BPF_PROG(guard_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct file *file = bprm->file; /* a BTF pointer: bpf_d_path needs one */
	struct ltrack_profile *p;
	struct walk_result w;
	struct decision d = {};
	struct view v;

	if (ret)
		return ret;
	p = begin_decision(&v, &d, LTRACK_HOOK_EXEC);
	if (!p)
		return 0;
	d.action = p->exec_default;
	d.rule_id = p->exec_default_rule;
	d.is_default = 1;
	if (p->flags & LTRACK_PF_EXEC_RULES) {
		walk_inode_rules(file->f_path.dentry, &file->f_path, &v, d.profile, LTRACK_HOOK_EXEC, &w);
		if (w.limit) {
			walk_failed(&d, LTRACK_EV_WALK_LIMIT);
			d.is_default = 0;
		} else if (w.found) {
			d.action = w.rule.action;
			d.rule_id = w.rule.rule_id;
			d.is_default = 0;
		}
	}
	return finish_file_decision(&d, file);
}
