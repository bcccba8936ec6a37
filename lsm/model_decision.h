/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/*
 * The model layer's decision, written once: a pure function over plain
 * values, compiled into the BPF object (lsm/file.bpf.c decide_model, for
 * every governed open, link, rename and unlink) and into user space
 * (policy/evaluate.cpp for `ltrackctl check --explain-profile`,
 * runtime/scan_waiter.cpp for the answer to a waited open). No helpers, no
 * maps, no pointers but the caller's own values: the callers find the facts
 * (the kernel by its maps and ancestor walk, the explainer by the compiled
 * policy and the host's files) and this header decides. C and C++ alike
 * (clang -target bpf, g++); like abi.h it never includes vmlinux.h.
 * tests/unit/policy/model_decision_test.cpp walks its whole truth table
 * against a checked-in copy (model_decision_table.txt), so any change to
 * what it decides shows as a diff in review.
 */
#ifndef LTRACK_MODEL_DECISION_H
#define LTRACK_MODEL_DECISION_H

#include "abi.h"

/* Inlined everywhere: a BPF subprogram cannot return a struct. */
#define LTRACK_MD_INLINE static inline __attribute__((always_inline))

/* The nearest of the profile's model and exclude directories above the
 * file, as the walk over hook MODEL subtree rules found it (a model
 * directory's rule carries the model action, an exclude directory's ALLOW;
 * a walk that hit its bound found nothing). */
enum ltrack_model_dir {
	LTRACK_MD_DIR_NONE = 0,    /* none found, or the walk did not run */
	LTRACK_MD_DIR_MODEL = 1,   /* a model directory */
	LTRACK_MD_DIR_EXCLUDE = 2, /* an exclude directory */
};

/* What reaches the file. */
enum ltrack_model_access {
	LTRACK_MD_READ = 0,       /* an open that can read it */
	LTRACK_MD_WRITE_ONLY = 1, /* an open for writing only: no byte reaches the opener */
	LTRACK_MD_NAME = 2,       /* no open: a link, rename, unlink or rmdir (decided as a read) */
};

/* What the caller found out. */
struct ltrack_model_facts {
	__u32 verdict;   /* the scanner's verdict that still holds (enum ltrack_verdict) */
	__u32 mode;      /* the decision's effective mode (never INHERIT) */
	__u32 name_rule; /* by_name: the rule id of the model extension that matched */
	__u32 dir_rule;  /* dir: the rule id of the nearest model or exclude directory */
	__u8 by_name;    /* the file's name has one of the profile's model extensions */
	__u8 dir;        /* enum ltrack_model_dir */
	__u8 access;     /* enum ltrack_model_access */
};

/* Why the file is (or is not) a model file. */
enum ltrack_model_why {
	LTRACK_MD_WHY_NONE = 0,     /* no extension, no directory, no bad verdict */
	LTRACK_MD_WHY_NAME = 1,     /* a model extension (no directory above overrides it) */
	LTRACK_MD_WHY_DIR = 2,      /* under a model directory */
	LTRACK_MD_WHY_EXCLUDED = 3, /* under an exclude directory, nearer than any model directory */
	LTRACK_MD_WHY_VERDICT = 4,  /* scanned unsafe, suspicious or error: a model file under any name */
};

/* What the model layer does. */
enum ltrack_model_outcome {
	LTRACK_MD_OFF = 0,        /* the profile has no model rule: the file rules decide */
	LTRACK_MD_NOT_MODEL = 1,  /* not a model file of this profile: the file rules decide */
	LTRACK_MD_ACCEPTABLE = 2, /* its verdict is acceptable: the file rules decide */
	LTRACK_MD_UNREAD = 3,     /* unscanned under scan_at_open, opened for writing only: the file rules decide */
	LTRACK_MD_RECORD = 4,     /* allow = "any" lets it through, recorded (action AUDIT) */
	LTRACK_MD_REFUSE = 5,     /* refused by the model rule (its action: DENY, or AUDIT) */
};

struct ltrack_model_decision {
	__u8 outcome;  /* enum ltrack_model_outcome */
	__u8 why;      /* enum ltrack_model_why */
	__u8 action;   /* RECORD, REFUSE: the decision's action (LTRACK_ACT_*) */
	__u8 may_wait; /* REFUSE: scan_at_open may hand this open to the scan
			* waiter instead, if the waiter holds the file's
			* directory (lsm/file.bpf.c waiter_holds, pass_pending):
			* its scan's verdict then decides */
	__u32 rule_id; /* RECORD, REFUSE: the rule the record names */
};

/* Does the model layer decide at all? */
LTRACK_MD_INLINE int ltrack_model_layer_on(const struct ltrack_profile *p)
{
	return p->model_policy != LTRACK_MODEL_OFF;
}

/* Is the walk over model and exclude directories needed? Only for a
 * profile that has any, and then only when no extension made the file a
 * model file already, unless an exclude directory could take that back. */
LTRACK_MD_INLINE int ltrack_model_walk_needed(const struct ltrack_profile *p, int by_name)
{
	if (!(p->flags & LTRACK_PF_MODEL_DIRS))
		return 0;
	return !by_name || (p->flags & LTRACK_PF_MODEL_EXCLUDES);
}

/* May a model file with this verdict be opened under this model policy?
 * (Under "any", everything may; what is not safe is still recorded.) */
LTRACK_MD_INLINE int ltrack_model_acceptable(__u8 model_policy, int deny_suspicious, __u32 verdict)
{
	switch (verdict) {
	case LTRACK_VERDICT_SAFE:
	case LTRACK_VERDICT_TRUSTED: return 1;
	case LTRACK_VERDICT_UNSCANNED: return model_policy >= LTRACK_MODEL_ALLOW_UNSCANNED;
	case LTRACK_VERDICT_SUSPICIOUS: return !deny_suspicious || model_policy == LTRACK_MODEL_ANY;
	default: return model_policy == LTRACK_MODEL_ANY;
	}
}

/* A verdict that makes a file a model file under any name. */
LTRACK_MD_INLINE int ltrack_model_verdict_is_bad(__u32 verdict)
{
	return verdict == LTRACK_VERDICT_UNSAFE || verdict == LTRACK_VERDICT_SUSPICIOUS ||
	       verdict == LTRACK_VERDICT_ERROR;
}

/* The decision. A model file is one under a model directory or with a
 * model extension, unless an exclude directory is nearer than any model
 * directory, or one a scan found dangerous, under any name. Its verdict
 * must be acceptable under the profile's allow (and deny_suspicious), or
 * the model rule refuses it; "any" refuses nothing but records what is not
 * safe. What the layer lets through still goes through the file rules. */
LTRACK_MD_INLINE struct ltrack_model_decision ltrack_model_decide(const struct ltrack_profile *p,
								  const struct ltrack_model_facts *f)
{
	struct ltrack_model_decision d = {LTRACK_MD_OFF, LTRACK_MD_WHY_NONE, 0, 0, 0};
	int deny_suspicious = !!(p->flags & LTRACK_PF_DENY_SUSPICIOUS);
	int is_model = 0, ok;
	__u32 rule = 0;

	if (!ltrack_model_layer_on(p))
		return d; /* LTRACK_MD_OFF */
	if (f->by_name) {
		is_model = 1;
		rule = f->name_rule;
		d.why = LTRACK_MD_WHY_NAME;
	}
	/* The nearest directory decides, over an extension too. */
	if (f->dir == LTRACK_MD_DIR_EXCLUDE) {
		is_model = 0;
		d.why = LTRACK_MD_WHY_EXCLUDED;
	} else if (f->dir == LTRACK_MD_DIR_MODEL) {
		is_model = 1;
		rule = f->dir_rule;
		d.why = LTRACK_MD_WHY_DIR;
	}
	if (!is_model && ltrack_model_verdict_is_bad(f->verdict)) {
		is_model = 1;
		d.why = LTRACK_MD_WHY_VERDICT;
	}
	if (!is_model) {
		d.outcome = LTRACK_MD_NOT_MODEL;
		return d;
	}
	ok = ltrack_model_acceptable(p->model_policy, deny_suspicious, f->verdict);
	if (ok && (p->model_policy != LTRACK_MODEL_ANY || f->verdict == LTRACK_VERDICT_SAFE ||
		   f->verdict == LTRACK_VERDICT_TRUSTED)) {
		d.outcome = LTRACK_MD_ACCEPTABLE;
		return d;
	}
	if (f->verdict == LTRACK_VERDICT_UNSCANNED && (p->flags & LTRACK_PF_MODEL_WAIT)) {
		/* scan_at_open: nothing to wait for when no byte is read. */
		if (f->access == LTRACK_MD_WRITE_ONLY) {
			d.outcome = LTRACK_MD_UNREAD;
			return d;
		}
		/* Only a refusal that would stop the open waits (enforce, deny). */
		d.may_wait = f->access == LTRACK_MD_READ && !ok && p->model_action == LTRACK_ACT_DENY &&
			     f->mode == LTRACK_MODE_ENFORCE;
	}
	d.outcome = ok ? LTRACK_MD_RECORD : LTRACK_MD_REFUSE;
	d.action = ok ? (__u8)LTRACK_ACT_AUDIT : p->model_action;
	d.rule_id = p->model_rule ? p->model_rule : rule;
	return d;
}

#endif /* LTRACK_MODEL_DECISION_H */
