/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/* A decision, the step every guard begins and ends with: begun (is the
 * current task governed, by which profile, in which mode), settled (the
 * matched action turned into the outcome and the hook's return value). */
#ifndef LTRACK_DECISION_BPF_H
#define LTRACK_DECISION_BPF_H

#include "maps.bpf.h"

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

/* begin_decision for a guard that also needs the per-CPU scratch (a name
 * to hash, a path to build): NULL, allow, without it as for an ungoverned
 * task. */
static __always_inline struct ltrack_profile *begin_decision_scratch(struct view *v, struct decision *d, __u8 hook,
								     struct scratch **buf)
{
	struct ltrack_profile *p = begin_decision(v, d, hook);
	__u32 zero = 0;

	if (!p)
		return NULL;
	*buf = bpf_map_lookup_elem(&scratch, &zero);
	return *buf ? p : NULL;
}

/* A decision no rule makes, the profile's for the whole hook (privilege,
 * mount): its action, fallback where the policy sets none. Recorded like
 * any profile default: an explicit "allow" is not. */
static __always_inline void decide_by_profile(struct decision *d, __u8 action, __u8 fallback, __u32 rule_id)
{
	d->action = action ? action : fallback;
	d->rule_id = rule_id;
	d->is_default = 1;
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

#endif /* LTRACK_DECISION_BPF_H */
