// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* file_open: model rules, then file rules (exact file, nearest directory,
 * name pattern, profile default), for governed tasks only. */
#include "ltrack.bpf.h"

__noinline __u64 ltrack_match_name(struct scratch *buf, __u32 len, __u32 slot, __u32 profile, __u32 hook)
{
	struct ltrack_name_key key = { .slot = slot, .profile = profile, .hook = hook };
	struct ltrack_rule *r, *best = NULL;
	__u64 h = LTRACK_NAME_HASH_INIT;
	int i;

	if (!buf)
		return 0;
	key.kind = LTRACK_NAME_SUFFIX;
	for (i = 0; i < LTRACK_NAME_MAX; i++) {
		__u32 pos;
		unsigned char c;

		if (i >= len)
			break;
		pos = (len - 1 - i) & LTRACK_NAME_MAX;
		c = buf->name[pos];
		h = ltrack_name_hash_step(h, c);
		/* A suffix starts at a dot; the longest one wins, so keep going. */
		if (c == '.' && pos > 0) {
			key.hash = h;
			r = bpf_map_lookup_elem(&name_rules, &key);
			if (r)
				best = r;
		}
	}
	key.kind = LTRACK_NAME_EXACT;
	key.hash = h;
	r = bpf_map_lookup_elem(&name_rules, &key);
	if (r)
		best = r;
	if (!best)
		return 0;
	return LTRACK_NAME_MATCH | (__u64)best->rule_id << 8 | best->action;
}

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

static __always_inline bool model_acceptable(struct ltrack_profile *p, __u32 verdict)
{
	switch (verdict) {
	case LTRACK_VERDICT_SAFE:
	case LTRACK_VERDICT_TRUSTED:
		return true;
	case LTRACK_VERDICT_UNSCANNED:
		return p->model_policy >= LTRACK_MODEL_ALLOW_UNSCANNED;
	case LTRACK_VERDICT_SUSPICIOUS:
		return !(p->flags & LTRACK_PF_DENY_SUSPICIOUS) || p->model_policy == LTRACK_MODEL_ANY;
	default:
		return p->model_policy == LTRACK_MODEL_ANY;
	}
}

/* Model layer: a file is a model file when it is under one of the profile's
 * model directories, has one of its model names, or was scanned and found
 * dangerous (under whatever name it is opened); it may then be opened only
 * as the model rule says. This layer can only refuse; what it lets through
 * still goes through the file rules. Returns true when it decided. */
static __always_inline bool decide_model(struct file *file, struct ltrack_profile *p, struct view *v,
					 struct scratch *buf, struct decision *d)
{
	struct ltrack_rule r = {};
	struct walk_result w;
	__u32 verdict;
	bool is_model = false;

	if (p->model_policy == LTRACK_MODEL_OFF)
		return false;
	if ((p->flags & LTRACK_PF_MODEL_NAMES) &&
	    match_name_rule(file->f_path.dentry, v->slot, d->profile, LTRACK_HOOK_MODEL,
			    buf, &r))
		is_model = true;
	if (!is_model && (p->flags & LTRACK_PF_MODEL_DIRS)) {
		walk_inode_rules(file, v, d->profile, LTRACK_HOOK_MODEL, &w);
		is_model = w.found;
		r = w.rule;
	}
	verdict = model_verdict(file->f_inode);
	/* A file the scanner found dangerous is a model file under any name:
	 * a hard link outside the model directories must not open it. */
	if (!is_model && verdict != LTRACK_VERDICT_UNSAFE && verdict != LTRACK_VERDICT_SUSPICIOUS &&
	    verdict != LTRACK_VERDICT_ERROR)
		return false;
	if (model_acceptable(p, verdict) && p->model_policy != LTRACK_MODEL_ANY)
		return false;
	if (model_acceptable(p, verdict) && (verdict == LTRACK_VERDICT_SAFE || verdict == LTRACK_VERDICT_TRUSTED))
		return false;
	d->hook = LTRACK_HOOK_MODEL;
	d->verdict = verdict;
	d->rule_id = p->model_rule ? p->model_rule : r.rule_id;
	/* "any" lets everything through but still records what was unsafe. */
	d->action = model_acceptable(p, verdict) ? LTRACK_ACT_AUDIT : p->model_action;
	return true;
}

static __always_inline void decide_file(struct file *file, struct ltrack_profile *p, struct view *v,
					struct scratch *buf, struct decision *d)
{
	struct walk_result w;
	struct ltrack_rule r;

	if (p->flags & LTRACK_PF_INODE_RULES) {
		walk_inode_rules(file, v, d->profile, LTRACK_HOOK_FILE, &w);
		if (w.limit) {
			/* Too deep to know which directory rule applies: fail closed. */
			count(LTRACK_CNT_WALK_LIMIT);
			d->flags |= LTRACK_EV_WALK_LIMIT;
			d->action = LTRACK_ACT_DENY;
			return;
		}
		if (w.found) {
			d->action = w.rule.action;
			d->rule_id = w.rule.rule_id;
			return;
		}
	}
	if ((p->flags & LTRACK_PF_NAME_RULES) &&
	    match_name_rule(file->f_path.dentry, v->slot, d->profile, LTRACK_HOOK_FILE, buf,
			    &r)) {
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
	__u32 zero = 0;

	if (ret)
		return ret;
	p = begin_decision(&v, &d, LTRACK_HOOK_FILE);
	buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!p || !buf)
		return 0;
	if (!decide_model(file, p, &v, buf, &d))
		decide_file(file, p, &v, buf, &d);
	return finish_file_decision(&d, file);
}
