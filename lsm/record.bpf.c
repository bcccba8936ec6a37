// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* Coalescing identical decisions (abi.h, "coalescing"): the check every
 * record passes before it is sent, and the flush the daemon runs once a
 * second for windows that ended with decisions not yet in a record.
 * Compiled for BPF ISA v3 (lsm/CMakeLists.txt): the window is claimed with
 * compare-and-exchange and the pending count taken with exchange, so two
 * CPUs never send the same decisions twice or lose one. */
#include "record.bpf.h"

/* FNV-1a of a NUL-terminated path. */
static __always_inline __u64 path_hash(const char *path)
{
	__u64 h = LTRACK_NAME_HASH_INIT;

	for (int i = 0; i < LTRACK_PATH_LEN; i++) {
		char c = path[i];

		if (!c)
			break;
		h = ltrack_name_hash_step(h, c);
	}
	return h;
}

static __always_inline void coalesce_key(const struct ltrack_event *e, struct ltrack_coalesce_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->pid = e->pid;
	k->profile = e->profile;
	k->rule_id = e->rule_id;
	k->hook = e->hook;
	k->outcome = e->outcome;
	k->action = e->action;
	k->proto = e->proto;
	k->family = e->family;
	k->port = e->port;
	k->cred_op = e->cred_op;
	k->dev = e->dev;
	k->ino = e->ino;
	__builtin_memcpy(k->addr, e->addr, sizeof(k->addr));
	__builtin_memcpy(k->new_ids, e->new_ids, sizeof(k->new_ids));
	k->new_caps = e->new_caps;
	/* An attempt on ltrack: what was tried, on which of its processes, with
	 * which argument (the PRIV fields they share the key with are 0 in a
	 * TAMPER record), and on which name. A flood of one attempt is one
	 * record a window; a different attempt is never folded into it. */
	if (e->hook == LTRACK_HOOK_TAMPER) {
		k->cred_op = e->tamper_op;
		k->new_ids[0] = e->target_pid;
		k->new_caps = e->tamper_arg;
	}
	/* A Unix socket path has no inode in the record; a file whose path is
	 * only partly known still has one. */
	if (e->family == AF_UNIX || e->hook == LTRACK_HOOK_TAMPER)
		k->path_hash = path_hash(e->path);
}

__noinline int ltrack_coalesce(struct ltrack_event *e)
{
	struct ltrack_coalesce_key key;
	struct ltrack_coalesce_val *v;
	__u64 start, n;
	__u32 zero = 0;

	if (!e)
		return 0;
	coalesce_key(e, &key);
	v = bpf_map_lookup_elem(&coalesce, &key);
	if (!v) {
		/* The first of its key: sent at once, and kept for a tally. */
		v = bpf_map_lookup_elem(&coalesce_scratch, &zero);
		if (v) {
			v->window_start = e->ts_ns;
			v->pending = 0;
			v->last_ns = e->ts_ns;
			__builtin_memcpy(&v->first, e, sizeof(v->first));
			bpf_map_update_elem(&coalesce, &key, v, BPF_NOEXIST);
		}
		e->count = 1;
		return 1;
	}
	v->last_ns = e->ts_ns;
	start = READ_ONCE(v->window_start);
	/* Inside the window (a start another CPU just moved past this
	 * decision's time counts as inside), or another CPU has just claimed
	 * the next window: counted, not sent. */
	if ((__s64)(e->ts_ns - start) < (__s64)LTRACK_COALESCE_WINDOW_NS ||
	    __sync_val_compare_and_swap(&v->window_start, start, e->ts_ns) != start) {
		__sync_fetch_and_add(&v->pending, 1);
		count(LTRACK_CNT_COALESCED);
		return 0;
	}
	/* This decision opens the next window and carries what piled up. */
	n = __sync_lock_test_and_set(&v->pending, 0);
	e->count = n + 1 > 0xffffffffull ? 0xffffffffu : (__u32)(n + 1);
	return 1;
}

/* ltrack_coalesced_*: the key's window still open, the decision counted. */
static __always_inline int coalesced(struct ltrack_coalesce_key *key)
{
	struct ltrack_coalesce_val *v = bpf_map_lookup_elem(&coalesce, key);
	__u64 now;

	if (!v)
		return 0;
	now = bpf_ktime_get_boot_ns();
	if ((__s64)(now - READ_ONCE(v->window_start)) >= (__s64)LTRACK_COALESCE_WINDOW_NS)
		return 0; /* the record carries the pending ones (ltrack_coalesce) */
	v->last_ns = now;
	__sync_fetch_and_add(&v->pending, 1);
	count(LTRACK_CNT_DECISIONS);
	count(LTRACK_CNT_COALESCED);
	return 1;
}

/* The key of a record that new_record fills from d: what coalesce_key
 * reads of it before the hook adds its object. */
static __always_inline void decision_key(struct decision *d, struct ltrack_coalesce_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->pid = bpf_get_current_pid_tgid() >> 32;
	k->profile = d->profile;
	k->rule_id = d->rule_id;
	k->hook = d->hook;
	k->outcome = d->outcome;
	k->action = d->action;
}

/* A file or exec record (record_file: the inode's dev and ino). */
__noinline int ltrack_coalesced_file(struct decision *d, __u64 dev, __u64 ino)
{
	struct ltrack_coalesce_key key;

	if (!d)
		return 0;
	decision_key(d, &key);
	key.dev = dev;
	key.ino = ino;
	return coalesced(&key);
}

/* A connect or send record (decide_destination). */
__noinline int ltrack_coalesced_net(struct decision *d, __u64 addr0, __u64 addr1, __u64 what)
{
	struct ltrack_coalesce_key key;

	if (!d)
		return 0;
	decision_key(d, &key);
	key.family = (__u16)what;
	key.port = (__u16)(what >> 16);
	key.proto = (__u8)(what >> 32);
	__builtin_memcpy(key.addr, &addr0, 8);
	__builtin_memcpy(key.addr + 8, &addr1, 8);
	return coalesced(&key);
}

struct flush_ctx {
	__u64 now;
	__u32 all;
	__u32 sent;
};

static long flush_one(struct bpf_map *map, struct ltrack_coalesce_key *key, struct ltrack_coalesce_val *v,
		      struct flush_ctx *ctx)
{
	struct ltrack_event *e;
	__u64 start = READ_ONCE(v->window_start), n;

	if (!READ_ONCE(v->pending))
		return 0;
	if (!ctx->all && (__s64)(ctx->now - start) < (__s64)LTRACK_COALESCE_WINDOW_NS)
		return 0; /* its window is still open */
	if (__sync_val_compare_and_swap(&v->window_start, start, ctx->now) != start)
		return 0; /* a decision of this key just opened the next window */
	n = __sync_lock_test_and_set(&v->pending, 0);
	if (!n)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		/* Ring full: they wait for the next flush, nothing is lost. */
		__sync_fetch_and_add(&v->pending, n);
		return 1;
	}
	__builtin_memcpy(e, &v->first, sizeof(*e));
	e->ts_ns = READ_ONCE(v->last_ns);
	e->count = n > 0xffffffffull ? 0xffffffffu : (__u32)n;
	e->flags |= LTRACK_EV_TALLY;
	bpf_ringbuf_submit(e, 0);
	ctx->sent++;
	return 0;
}

/* Run by the daemon (BPF_PROG_TEST_RUN) on its 1 s tick, and with all = 1
 * when it exits: one tally record per key whose window ended with
 * decisions in no record yet. Never attached. */
SEC("syscall")
int flush_coalesced(struct ltrack_flush_args *args)
{
	struct flush_ctx ctx = {.now = bpf_ktime_get_boot_ns(), .all = args->all};

	bpf_for_each_map_elem(&coalesce, flush_one, &ctx, 0);
	args->sent = ctx.sent;
	return 0;
}
